/* cli_tui.c - `sktune tui` (and `sktune` alone on a terminal): the workbench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sk_core.h"
#include "sk_io.h"
#include "tui/tui.h"

const char *cli_datasets_dir(void) {
    const char *env = getenv("SKTUNE_DATASETS");
    return env && *env ? env : SKTUNE_SOURCE_ROOT "/datasets";
}

const char *cli_default_model(void) {
    static const char *const candidates[] = {
        "models/smollm2-135m-instruct", SKTUNE_SOURCE_ROOT "/models/smollm2-135m-instruct",
        "models/tiny-gpt2", SKTUNE_SOURCE_ROOT "/models/tiny-gpt2",
    };
    char path[4096];
    SkError err;
    for (int i = 0; i < 2; i++) /* the pretrained model, when scripts/setup has fetched it */
        if (sk_gguf_resolve(candidates[i], path, sizeof path, &err) == 1) return candidates[i];
    return sk_file_exists("models/tiny-gpt2/config.json") ? candidates[2] : candidates[3];
}

static int positive(const char *opt, const char *v, int def, int *out) {
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 4096) {
        fprintf(stderr, "sktune tui: %s must be a whole number from 1 to 4096, not \"%s\"\n", opt, v);
        return 2;
    }
    *out = (int)n;
    return 0;
}

int cli_tui(int argc, char **argv) {
    static const char *known[] = {"--model", "--task", "--data", "--eval", "--prompt", "--template", "--chat",
                                  "--parallel", "--sample", NULL};
    int rc = cli_check_options(argc, argv, known, 0);
    if (rc) return rc;
    WorkbenchOptions o = {0};
    o.model_dir = cli_option(argc, argv, "--model");
    if (!o.model_dir) o.model_dir = cli_default_model();
    o.task = cli_option(argc, argv, "--task");
    o.data = cli_option(argc, argv, "--data");
    o.eval_data = cli_option(argc, argv, "--eval");
    if (o.task && o.data) {
        fprintf(stderr, "sktune tui: give --task or --data, not both\n");
        return 2;
    }
    if (o.eval_data && !o.data) {
        fprintf(stderr, "sktune tui: --eval goes with --data\n");
        return 2;
    }
    /* wordnet-topic: the bundled task a small model reads best zero-shot (8 classes; SmolLM2
     * scores far above the majority class there, and on spam no prompt beats always-ham) */
    if (!o.task) o.task = "wordnet-topic";
    o.prompt = cli_option(argc, argv, "--prompt");
    o.templ = cli_option(argc, argv, "--template");
    const char *chat = cli_option(argc, argv, "--chat");
    if (chat && strcmp(chat, "on") && strcmp(chat, "off")) {
        fprintf(stderr, "sktune tui: --chat is on or off, not \"%s\"\n", chat);
        return 2;
    }
    o.chat = chat && !strcmp(chat, "on");
    o.datasets_dir = cli_datasets_dir();
    if ((rc = positive("--parallel", cli_option(argc, argv, "--parallel"), 2, &o.parallel)) ||
        (rc = positive("--sample", cli_option(argc, argv, "--sample"), 64, &o.sample)))
        return rc;
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "sktune tui: the workbench needs a terminal; for scripts use `sktune run` or `sktune compare`\n");
        return 2;
    }
    return Workbench_main(&o);
}
