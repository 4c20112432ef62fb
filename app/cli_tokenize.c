/* cli_tokenize.c - `sktune tokenize --model DIR [TEXT]`: ids, then one line per token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sk_tokenizer.h"

static char *read_stdin(size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    *len = n;
    return buf;
}

static void print_quoted(const char *s, int n) {
    putchar('"');
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
}

int cli_tokenize(int argc, char **argv) {
    static const char *const known[] = {"--model", NULL};
    int rc = cli_check_options(argc, argv, known, 1);
    if (rc) return rc;
    const char *dir = cli_option(argc, argv, "--model");
    if (!dir) {
        fprintf(stderr, "sktune tokenize: --model DIR is required\n");
        return 2;
    }
    const char *text = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            if (!strchr(argv[i], '=')) i++;
            continue;
        }
        text = argv[i];
    }
    SkError err;
    SkTokenizer *t;
    if (sk_tokenizer_load(dir, &t, &err) != 0) {
        fprintf(stderr, "sktune tokenize: %s\n", err.msg);
        return 1;
    }
    size_t len;
    char *owned = NULL;
    if (text) len = strlen(text);
    else {
        owned = read_stdin(&len);
        if (!owned) {
            fprintf(stderr, "sktune tokenize: out of memory reading stdin\n");
            sk_tokenizer_free(t);
            return 1;
        }
        text = owned;
    }
    SkIds ids = {0};
    rc = 0;
    if (sk_tokenizer_encode(t, text, len, true, &ids, &err) != 0) {
        fprintf(stderr, "sktune tokenize: %s\n", err.msg);
        rc = 1;
    } else {
        printf("%d tokens:", ids.n);
        for (int i = 0; i < ids.n; i++) printf(" %d", ids.ids[i]);
        putchar('\n');
        for (int i = 0; i < ids.n; i++) {
            char buf[1024];
            int n = sk_tokenizer_token_bytes(t, ids.ids[i], buf, sizeof buf);
            printf("%8d  ", ids.ids[i]);
            print_quoted(buf, n < 0 ? 0 : n);
            if (sk_tokenizer_is_special(t, ids.ids[i])) fputs("  (special)", stdout);
            putchar('\n');
        }
    }
    sk_ids_free(&ids);
    free(owned);
    sk_tokenizer_free(t);
    return rc;
}
