/* test_peft_reference.c - sk_prefix, prefix_tuning and lora against PyTorch
 * (tests/reference/gen_peft.py): with the same tensor values, the loss and the
 * gradient of every trainable tensor must be within 1e-4 relative error. */
#include <cJSON.h>

#include "sk_io.h"
#include "sk_peft.h"
#include "testutil.h"

#define TOL 1e-4

static const char *fixtures;

static void load(const char *dir, const char *name, SkTensor *t) {
    char path[1400];
    snprintf(path, sizeof path, "%.1000s/%.300s.npy", dir, name);
    SkError err;
    REQUIRE(sk_npy_load(path, t, &err) == 0, "%s", err.msg);
}

static void check_case(SkModel *model, SkTokenizer *tok, const char *name) {
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/peft/%s", fixtures, name);
    snprintf(path, sizeof path, "%s/method.json", dir);
    SkError err;
    cJSON *mj;
    REQUIRE(sk_json_load(path, &mj, &err) == 0, "%s", err.msg);
    SkMethodConfig mc;
    REQUIRE(sk_method_config_from_json(mj, &mc, &err) == 0, "%s", err.msg);
    cJSON_Delete(mj);
    SkMethod *me;
    SkHead *head;
    REQUIRE(sk_method_new(model, tok, &mc, &me, &err) == 0, "%s", err.msg);
    SkHeadConfig hc;
    sk_head_config_default(&hc, 2);
    hc.dropout = 0;
    REQUIRE(sk_head_new(model, tok, &hc, 2, 1, &head, &err) == 0, "%s", err.msg);
    SkTrainable *mt, *ht;
    int nm = sk_method_trainables(me, &mt), nh = sk_head_trainables(head, &ht);
    for (int i = 0; i < nm + nh; i++) {
        SkTrainable *t = i < nm ? &mt[i] : &ht[i - nm];
        char nmv[160];
        snprintf(nmv, sizeof nmv, "value.%s", t->name);
        SkTensor v;
        load(dir, nmv, &v);
        REQUIRE(v.numel == t->numel, "%s: %zu values, tensor has %zu", t->name, v.numel, t->numel);
        memcpy(t->w, v.data, t->numel * sizeof(float));
        memset(t->g, 0, t->numel * sizeof(float));
        sk_tensor_free(&v);
    }
    SkTensor ids_t, mask_t, lab_t, loss_t;
    load(dir, "ids", &ids_t), load(dir, "mask", &mask_t), load(dir, "labels", &lab_t), load(dir, "loss", &loss_t);
    int B = (int)ids_t.shape[0], T = (int)ids_t.shape[1];
    int32_t ids[64];
    int len[8], labels[8];
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)ids_t.data[i];
    for (int b = 0; b < B; b++) {
        len[b] = 0;
        for (int t = 0; t < T; t++) len[b] += mask_t.data[b * T + t] != 0;
        labels[b] = (int)lab_t.data[b];
    }
    SkActsShape shape = {.B = B, .T = T};
    sk_method_shape(me, &shape);
    SkActs *acts;
    REQUIRE(sk_acts_new(model, &shape, &acts, &err) == 0, "%s", err.msg);
    SkBatch batch = {.B = B, .T = T, .ids = ids, .mask = mask_t.data};
    SkHooks h;
    REQUIRE(sk_method_forward(me, &h, &err) == 0, "%s", err.msg);
    REQUIRE(sk_model_forward(model, acts, &batch, &h, &err) == 0, "%s", err.msg);
    int S = shape.n_embed + T, d = sk_model_config(model)->d_model;
    float scores[16], dscores[16];
    sk_head_forward(head, sk_acts_hidden(acts), B, S, shape.n_embed, len, false, scores);
    double loss = sk_head_loss(head, scores, labels, NULL, B, dscores);
    float *dh = calloc((size_t)B * S * d, sizeof(float));
    sk_head_backward(head, dscores, B, S, dh);
    REQUIRE(sk_model_backward(model, acts, &batch, &h, dh, &err) == 0, "%s", err.msg);
    sk_method_backward(me, &h);
    double e = fabs(loss - loss_t.data[0]) / fabs(loss_t.data[0]);
    CHECK(e <= TOL, "%s: loss %.7f vs torch %.7f", name, loss, loss_t.data[0]);
    double worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < nm + nh; i++) {
        SkTrainable *t = i < nm ? &mt[i] : &ht[i - nm];
        char nmg[160];
        snprintf(nmg, sizeof nmg, "grad.%s", t->name);
        SkTensor g;
        load(dir, nmg, &g);
        double ge = tu_rel_err(t->g, g.data, t->numel);
        CHECK(ge <= TOL, "%s: gradient of %s rel err %.3g", name, t->name, ge);
        if (ge > worst) worst = ge, worst_name = t->name;
        sk_tensor_free(&g);
    }
    printf("%-14s loss %.6f (torch %.6f, rel err %.1e); %d gradients, worst rel err %.1e (%s)\n", name,
           loss, loss_t.data[0], e, nm + nh, worst, worst_name);
    free(dh);
    sk_tensor_free(&ids_t), sk_tensor_free(&mask_t), sk_tensor_free(&lab_t), sk_tensor_free(&loss_t);
    sk_acts_free(acts);
    sk_head_free(head);
    sk_method_free(me);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/gpt2-tiny-f32", fixtures);
    SkError err;
    SkModel *model;
    SkTokenizer *tok;
    REQUIRE(sk_model_load(dir, &model, &err) == 0, "%s", err.msg);
    REQUIRE(sk_tokenizer_load(dir, &tok, &err) == 0, "%s", err.msg);
    check_case(model, tok, "sk_prefix");
    check_case(model, tok, "prefix_tuning");
    check_case(model, tok, "lora");
    sk_tokenizer_free(tok);
    sk_model_free(model);
    return tu_finish("test_peft_reference");
}
