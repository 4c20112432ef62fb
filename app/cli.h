/* cli.h - the subcommands of the sktune program. Each returns the exit code:
 * 0 success, 1 runtime failure (message on stderr), 2 usage error. */
#ifndef SK_CLI_H
#define SK_CLI_H

#include "sk_model.h"
#include "sk_tokenizer.h"

int cli_run(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_tokenize(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_generate(int argc, char **argv);
int cli_tui(int argc, char **argv);
int cli_convert(int argc, char **argv);
void cli_usage(void); /* the usage text, on stdout */
/* $SKTUNE_DATASETS, else the source tree's datasets/ folder. */
const char *cli_datasets_dir(void);
/* models/smollm2-135m-instruct when its GGUF is there (scripts/setup fetches it), else
 * models/tiny-gpt2; in the current folder, else in the source tree. */
const char *cli_default_model(void);

/* Loads the model at path (a Hugging Face folder or a GGUF) with a progress bar on a
 * terminal, and its tokenizer when tok is not NULL; on failure prints "sktune CMD: ..." and
 * returns 1 (nothing to free), else 0. */
int cli_load_model(const char *cmd, const char *path, SkModel **m, SkTokenizer **tok);

/* Finds "--name VALUE" or "--name=VALUE" in argv; returns VALUE or NULL. */
const char *cli_option(int argc, char **argv, const char *name);
/* Reports an unknown option or a missing value: returns 2 after printing. */
int cli_check_options(int argc, char **argv, const char *const *known, int first_positional_ok);

#endif
