/* cli_model.c - loading the model (and its tokenizer) a command names, with the progress bar
 * on a terminal and the command's one-line error otherwise. */
#include <stdio.h>

#include "cli.h"
#include "progress.h"

int cli_load_model(const char *cmd, const char *path, SkModel **m, SkTokenizer **tok) {
    SkError err;
    Progress pr;
    progress_init(&pr);
    int rc = sk_model_load_progress(path, progress_update, &pr, m, &err);
    progress_done(&pr);
    if (rc != 0) {
        fprintf(stderr, "sktune %s: %s\n", cmd, err.msg);
        return 1;
    }
    if (tok && sk_tokenizer_load(path, tok, &err) != 0) {
        fprintf(stderr, "sktune %s: %s\n", cmd, err.msg);
        sk_model_free(*m);
        *m = NULL;
        return 1;
    }
    return 0;
}
