/* cli_convert.c - `sktune convert --model GGUF --out DIR [--dtype bf16|f16|f32]`: a GGUF model
 * as a Hugging Face folder (config.json, model.safetensors, tokenizer.json) that transformers
 * and PEFT load as they are. Quantized matrices are dequantized (exactly: every quantized
 * value is a small integer times fp16 scales, so F32 keeps it bit for bit; BF16 rounds it). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sk_model.h"
#include "sk_tokenizer.h"

int cli_convert(int argc, char **argv) {
    static const char *const known[] = {"--model", "--out", "--dtype", NULL};
    int rc = cli_check_options(argc, argv, known, 0);
    if (rc) return rc;
    const char *src = cli_option(argc, argv, "--model"), *out = cli_option(argc, argv, "--out");
    const char *dt = cli_option(argc, argv, "--dtype");
    if (!src || !out) {
        fprintf(stderr, "sktune convert: --model GGUF and --out DIR are required\n");
        return 2;
    }
    const char *dtype = !dt || !strcmp(dt, "bf16") ? "BF16" : !strcmp(dt, "f16") ? "F16" : !strcmp(dt, "f32") ? "F32" : NULL;
    if (!dtype) {
        fprintf(stderr, "sktune convert: --dtype is bf16, f16 or f32, not \"%s\"\n", dt);
        return 2;
    }
    SkError err;
    SkModel *m;
    SkTokenizer *tok;
    if (cli_load_model("convert", src, &m, &tok) != 0) return 1;
    if (sk_mkdir_p(out, &err) != 0 || sk_model_save(m, out, dtype, &err) != 0 || sk_tokenizer_save(tok, out, &err) != 0) {
        fprintf(stderr, "sktune convert: %s\n", err.msg);
        rc = 1;
    } else {
        printf("%s -> %s: config.json, model.safetensors (%s), tokenizer.json\n", src, out, dtype);
    }
    sk_tokenizer_free(tok);
    sk_model_free(m);
    return rc;
}
