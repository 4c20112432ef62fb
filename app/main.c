/* main.c - sktune's command-line dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char USAGE[] =
    "sktune " SKTUNE_VERSION " - a workbench for parameter-efficient fine-tuning (SK-Tuning)\n"
    "\n"
    "usage:\n"
    "  sktune                              the workbench (on a terminal), task wordnet-topic, on\n"
    "                                      SmolLM2 when scripts/setup fetched it, else tiny-gpt2\n"
    "  sktune tui [--model DIR] [--task NAME | --data FILE [--eval FILE]] [--prompt TEXT]\n"
    "             [--parallel N] [--sample N]   the workbench on any model and task\n"
    "  sktune run SCRIPT.lua [ARGS...]     run a Lua experiment script (module `sk`)\n"
    "  sktune compare [--model DIR] [--task NAME] [--methods a,b,...] [--steps N] [--seeds K]\n"
    "                 [--out DIR]         methods side by side, with verdicts on SK-Tuning's claims\n"
    "  sktune info --model DIR             architecture, sizes, parameters, dtype, tokenizer\n"
    "  sktune tokenize --model DIR [TEXT]  token ids and pieces of TEXT (or stdin)\n"
    "  sktune generate --model DIR [--prompt TEXT] [--max-tokens N] [--temperature T]\n"
    "                  [--top-k K] [--top-p P] [--seed S]   continue a text (greedy by default)\n"
    "  sktune bench [--batch B] [--seq T] [--steps N] [--threads N] [--pass forward|frozen|full]\n"
    "               [--methods all|a,b,...]   one training step of each PEFT method\n"
    "                                      speed of forward/backward at GPT-2-small shape\n"
    "  sktune convert --model GGUF --out DIR [--dtype bf16|f16|f32]\n"
    "                                      a GGUF model as a Hugging Face folder (transformers, PEFT)\n"
    "  sktune --help | --version\n"
    "\n"
    "DIR is a Hugging Face model directory (config.json, model.safetensors or shards with\n"
    "model.safetensors.index.json, tokenizer.json or vocab.json + merges.txt), a GGUF file\n"
    "(llama.cpp's format: F32/F16/BF16, Q8_0, Q4_0/1, Q5_0/1, Q2_K..Q6_K), or a folder holding one.\n"
    "Exit codes: 0 success, 1 runtime failure, 2 usage error.\n";

const char *cli_option(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], name, n) != 0) continue;
        if (argv[i][n] == '=') return argv[i] + n + 1;
        if (argv[i][n] == 0 && i + 1 < argc) return argv[i + 1];
    }
    return NULL;
}

void cli_usage(void) { fputs(USAGE, stdout); }

int cli_check_options(int argc, char **argv, const char *const *known, int positional_ok) {
    int positional = 0;
    for (int i = 0; i < argc; i++) { /* every command answers --help */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_usage();
            exit(0);
        }
    }
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (++positional > positional_ok) {
                fprintf(stderr, "sktune: unexpected argument \"%s\" (see sktune --help)\n", argv[i]);
                return 2;
            }
            continue;
        }
        int ok = 0;
        for (int k = 0; known[k]; k++) {
            size_t n = strlen(known[k]);
            if (strncmp(argv[i], known[k], n) == 0 && (argv[i][n] == 0 || argv[i][n] == '=')) {
                ok = 1;
                if (argv[i][n] == 0) {
                    if (i + 1 >= argc) {
                        fprintf(stderr, "sktune: option %s needs a value\n", known[k]);
                        return 2;
                    }
                    i++;
                }
            }
        }
        if (!ok) {
            fprintf(stderr, "sktune: unknown option \"%s\" (see sktune --help)\n", argv[i]);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { /* on a terminal: the workbench on the bundled model */
        if (isatty(0) && isatty(1)) return cli_tui(0, argv + 1);
        fputs(USAGE, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("sktune %s\n", SKTUNE_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run")) return cli_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "tui")) return cli_tui(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return cli_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "tokenize")) return cli_tokenize(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return cli_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "generate")) return cli_generate(argc - 2, argv + 2);
    if (!strcmp(cmd, "convert")) return cli_convert(argc - 2, argv + 2);
    if (!strcmp(cmd, "compare")) { /* a thin wrapper over scripts/compare.lua */
        char **args = calloc((size_t)argc, sizeof *args);
        if (!args) return 1;
        args[0] = SKTUNE_SOURCE_ROOT "/scripts/compare.lua";
        for (int i = 2; i < argc; i++) args[i - 1] = argv[i];
        int rc = cli_run(argc - 1, args);
        free(args);
        return rc;
    }
    fprintf(stderr, "sktune: unknown command \"%s\"\n\n%s", cmd, USAGE);
    return 2;
}
