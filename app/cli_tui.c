/* cli_tui.c - `sktune tui` (and `sktune` alone on a terminal): the workbench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sk_core.h"
#include "tui/tui.h"

const char *cli_datasets_dir(void) {
    const char *env = getenv("SKTUNE_DATASETS");
    return env && *env ? env : SKTUNE_SOURCE_ROOT "/datasets";
}

const char *cli_default_model(void) {
    return sk_file_exists("models/tiny-gpt2/config.json") ? "models/tiny-gpt2" : SKTUNE_SOURCE_ROOT "/models/tiny-gpt2";
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
    static const char *known[] = {"--model", "--task", "--data", "--eval", "--prompt", "--parallel", "--sample", NULL};
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
    if (!o.task) o.task = "spam";
    o.prompt = cli_option(argc, argv, "--prompt");
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
