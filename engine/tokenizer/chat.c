/* chat.c - the text a model's chat template puts around one user message.
 *
 * Chat templates are Jinja programs; rather than interpret Jinja, sktune recognises the
 * layouts that fine-tuned models of the supported families use and renders one user turn
 * plus the opened assistant turn exactly as apply_chat_template(add_generation_prompt=True)
 * does for them. A template's default system message (SmolLM2's "You are a helpful AI
 * assistant named SmolLM...", Qwen2.5's "You are Qwen...") is taken from its literal text. */
#include <stdio.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

const char *sk_tokenizer_chat_template(const SkTokenizer *t) { return t->chat_template; }

/* The literal system message a template inserts when the conversation has none: the text
 * between `open` and `close` in the first string literal that holds both, unless it is
 * built from a variable (then there is no default). */
static void default_system(const char *tpl, const char *open, const char *close, char *out, size_t cap) {
    out[0] = 0;
    const char *p = strstr(tpl, open);
    if (!p) return;
    p += strlen(open);
    const char *e = strstr(p, close);
    if (!e || (size_t)(e - p) >= cap) return;
    for (const char *q = p; q < e; q++)
        if (*q == '\'' || *q == '"' || *q == '{' || *q == '}') return; /* not a literal */
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
}

int sk_tokenizer_chat_wrap(const SkTokenizer *t, char *before, size_t before_cap, char *after, size_t after_cap,
                           SkError *err) {
    const char *tpl = t->chat_template;
    if (!tpl) return sk_err(err, "the tokenizer has no chat template (tokenizer_config.json chat_template, or the GGUF's)");
    char sys[512];
    int n1, n2;
    if (strstr(tpl, "<|im_start|>")) { /* ChatML */
        default_system(tpl, "<|im_start|>system\\n", "<|im_end|>", sys, sizeof sys);
        if (!sys[0]) default_system(tpl, "<|im_start|>system\n", "<|im_end|>", sys, sizeof sys);
        n1 = sys[0] ? snprintf(before, before_cap, "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n", sys)
                    : snprintf(before, before_cap, "<|im_start|>user\n");
        n2 = snprintf(after, after_cap, "<|im_end|>\n<|im_start|>assistant\n");
    } else if (strstr(tpl, "<|start_header_id|>")) { /* Llama 3 (the BOS is the prompt's own) */
        n1 = snprintf(before, before_cap, "<|start_header_id|>user<|end_header_id|>\n\n");
        n2 = snprintf(after, after_cap, "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    } else {
        return sk_err(err, "the chat template is neither ChatML (<|im_start|>) nor Llama 3's (<|start_header_id|>), "
                           "the layouts sktune can wrap a prompt in");
    }
    if (n1 < 0 || (size_t)n1 >= before_cap || n2 < 0 || (size_t)n2 >= after_cap)
        return sk_err(err, "the chat template's system message is too long");
    return 0;
}
