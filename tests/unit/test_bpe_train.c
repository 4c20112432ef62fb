/* test_bpe_train.c - the incremental BPE trainer against a naive one that recounts
 * every pair before every merge (same rules: most frequent pair, ties to the smallest
 * ids, stop below two occurrences). The merge lists must be identical. Then the
 * trained tokenizer saves, loads and round-trips text. */
#include <cJSON.h>
#include <unistd.h>

#include "sk_io.h"
#include "tokenizer/tokenizer_internal.h"
#include "testutil.h"

typedef struct {
    int32_t sym[512];
    int n;
    int64_t count;
} NWord;

/* naive: returns the number of merges, writing (a, b) pairs */
static int naive_train(const char *text, size_t len, int n_merges, int n_special, int32_t *ma, int32_t *mb) {
    NWord *w = calloc(20000, sizeof *w);
    int nw = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t j = sk_pretok_gpt2_next(s, len, i);
        int found = -1;
        for (int k = 0; k < nw && found < 0; k++) {
            if (w[k].n != (int)(j - i)) continue;
            bool same = true;
            for (int q = 0; q < w[k].n && same; q++) same = w[k].sym[q] == n_special + s[i + (size_t)q];
            if (same) found = k;
        }
        if (found >= 0) w[found].count++;
        else if (j - i <= 512) {
            w[nw].n = (int)(j - i), w[nw].count = 1;
            for (int q = 0; q < w[nw].n; q++) w[nw].sym[q] = n_special + s[i + (size_t)q];
            nw++;
        }
        i = j;
    }
    int done = 0;
    for (; done < n_merges; done++) {
        int64_t best = 1;
        int32_t ba = -1, bb = -1;
        /* count every pair by brute force */
        for (int k = 0; k < nw; k++)
            for (int q = 0; q + 1 < w[k].n; q++) {
                int32_t a = w[k].sym[q], b = w[k].sym[q + 1];
                int64_t c = 0;
                for (int k2 = 0; k2 < nw; k2++)
                    for (int q2 = 0; q2 + 1 < w[k2].n; q2++)
                        if (w[k2].sym[q2] == a && w[k2].sym[q2 + 1] == b) c += w[k2].count; /* every adjacent pair, as HF counts */
                if (c > best || (c == best && (a < ba || (a == ba && b < bb)))) best = c, ba = a, bb = b;
            }
        if (ba < 0) break;
        int32_t ab = n_special + 256 + done;
        ma[done] = ba, mb[done] = bb;
        for (int k = 0; k < nw; k++) {
            int o = 0;
            for (int q = 0; q < w[k].n;) {
                if (q + 1 < w[k].n && w[k].sym[q] == ba && w[k].sym[q + 1] == bb) w[k].sym[o++] = ab, q += 2;
                else w[k].sym[o++] = w[k].sym[q++];
            }
            w[k].n = o;
        }
    }
    free(w);
    return done;
}

int main(int argc, char **argv) {
    const char *fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/gpt2_golden.json", fixtures);
    cJSON *root;
    SkError err;
    REQUIRE(sk_json_load(path, &root, &err) == 0, "%s", err.msg);
    /* a few kilobytes of varied text: the golden strings without the long repeats */
    char *text = calloc(1, 1 << 16);
    size_t len = 0;
    for (cJSON *e = root->child; e; e = e->next) {
        const char *s = cJSON_GetObjectItem(e, "text")->valuestring;
        size_t n = strlen(s);
        if (n > 400 || len + n + 1 >= (1 << 16) - 1) continue;
        memcpy(text + len, s, n), len += n;
        text[len++] = '\n';
    }
    cJSON_Delete(root);
    const char *special[1] = {"<|endoftext|>"};
    int want = 120;
    SkTokenizer *t;
    REQUIRE(sk_tokenizer_train_bpe(text, len, 257 + want, special, 1, NULL, NULL, &t, &err) == 0, "%s", err.msg);
    int32_t ma[512], mb[512];
    int n = naive_train(text, len, want, 1, ma, mb);
    CHECK(t->n_merges == n, "incremental %d merges, naive %d", t->n_merges, n);
    int agree = 0;
    for (int i = 0; i < n && i < t->n_merges; i++) {
        if (t->merge_left[i] == ma[i] && t->merge_right[i] == mb[i]) agree++;
        else if (agree == i) printf("  first difference at merge %d: (%d, %d) vs naive (%d, %d)\n", i,
                                    t->merge_left[i], t->merge_right[i], ma[i], mb[i]);
    }
    printf("%d of %d merges identical to the naive trainer (%zu bytes of text)\n", agree, n, len);
    CHECK(agree == n && n == want, "merge lists differ");
    /* save, load, round-trip */
    char dir[] = "/tmp/sktune-bpe-XXXXXX";
    REQUIRE(mkdtemp(dir), "mkdtemp");
    REQUIRE(sk_tokenizer_save(t, dir, &err) == 0, "%s", err.msg);
    SkTokenizer *back;
    REQUIRE(sk_tokenizer_load(dir, &back, &err) == 0, "%s", err.msg);
    const char *probe = "The quick brown fox, 1234 times!<|endoftext|> naïve 😀";
    SkIds a = {0}, b = {0};
    sk_tokenizer_encode(t, probe, strlen(probe), true, &a, &err);
    sk_tokenizer_encode(back, probe, strlen(probe), true, &b, &err);
    bool same = a.n == b.n;
    for (int i = 0; same && i < a.n; i++) same = a.ids[i] == b.ids[i];
    CHECK(same, "saved tokenizer encodes differently");
    for (int i = 0; !same && i < (a.n > b.n ? a.n : b.n); i++)
        printf("  %d: %d vs %d\n", i, i < a.n ? a.ids[i] : -1, i < b.n ? b.ids[i] : -1);
    char *dec;
    size_t dlen;
    REQUIRE(sk_tokenizer_decode(back, b.ids, b.n, &dec, &dlen, &err) == 0, "%s", err.msg);
    CHECK(dlen == strlen(probe) && !memcmp(dec, probe, dlen), "round trip");
    CHECK(sk_tokenizer_is_special(back, 0) && a.ids[a.n - 5] != 0, "special token id 0");
    bool has_eot = false;
    for (int i = 0; i < a.n; i++) has_eot |= a.ids[i] == 0;
    CHECK(has_eot, "<|endoftext|> split out as one token");
    free(dec), sk_ids_free(&a), sk_ids_free(&b);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    unlink(path), rmdir(dir);
    sk_tokenizer_free(back), sk_tokenizer_free(t);
    free(text);
    return tu_finish("test_bpe_train");
}
