/* weights.c - where a model's parameters live: one fp32 block; one 16-bit block for the
 * weight matrices when the model holds them as a safetensors checkpoint stored them (F16
 * or BF16: half the memory); and one block of GGUF-typed rows (quantized blocks, F16, BF16)
 * for matrices a GGUF file stored so. The products convert a block of rows at a time.
 * Vectors (norms, biases) are always fp32. Parameters keep their declared order inside each
 * block, so matrices declared side by side (Llama's q, k, v) stay one contiguous matrix
 * (in the GGUF block only when they share one type; llama.c stacks them as parts else). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"
#include "sk_quant.h"

static bool held_16(const SkParam *p, SkDtype hold) { return hold != SK_DT_F32 && p->ndim == 2 && !p->qtype; }
static bool held_q(const SkParam *p) { return p->qtype != SK_GGML_F32 && p->ndim == 2; }
static size_t q_bytes(const SkParam *p) {
    return sk_ggml_row_bytes(p->qtype, p->shape[1]) * (size_t)p->shape[0];
}

/* "F32", "BF16", or the GGUF types of the matrices ("Q4_1+Q8_0"), for info and titles. */
static void describe(SkModel *m) {
    snprintf(m->held, sizeof m->held, "%s", sk_dtype_name(m->hold));
    if (!m->weightsq) return;
    m->held[0] = 0;
    uint32_t seen[8];
    int n = 0;
    for (int i = 0; i < m->n_params && n < 8; i++) {
        const SkParam *p = &m->params[i];
        if (!p->wq) continue;
        bool dup = false;
        for (int k = 0; k < n; k++) dup |= seen[k] == p->qtype;
        if (dup) continue;
        seen[n++] = p->qtype;
        size_t used = strlen(m->held);
        snprintf(m->held + used, sizeof m->held - used, "%s%s", used ? "+" : "", sk_ggml_type_name(p->qtype));
    }
}

const char *sk_model_held(const SkModel *m) { return m->held; }

int sk_weights_alloc(SkModel *m, SkDtype hold, SkError *err) {
    size_t n32 = 0, n16 = 0, nq = 0, count = 0;
    for (int i = 0; i < m->n_params; i++) {
        const SkParam *p = &m->params[i];
        if (held_q(p)) nq += q_bytes(p);
        else *(held_16(p, hold) ? &n16 : &n32) += p->numel;
        count += p->numel;
    }
    float *w32 = malloc((n32 ? n32 : 1) * sizeof(float));
    uint16_t *w16 = n16 ? malloc(n16 * sizeof(uint16_t)) : NULL;
    unsigned char *wq = nq ? malloc(nq) : NULL;
    if (!w32 || (n16 && !w16) || (nq && !wq)) {
        free(w32), free(w16), free(wq);
        return sk_err(err, "out of memory for %zu parameters (%zu MiB)", count, (n32 * 4 + n16 * 2 + nq) >> 20);
    }
    size_t o32 = 0, o16 = 0, oq = 0;
    for (int i = 0; i < m->n_params; i++) {
        SkParam *p = &m->params[i];
        p->w = NULL, p->w16 = NULL, p->wq = NULL, p->bf16 = hold == SK_DT_BF16;
        if (held_q(p)) p->wq = wq + oq, oq += q_bytes(p);
        else if (held_16(p, hold)) p->w16 = w16 + o16, o16 += p->numel;
        else p->w = w32 + o32, o32 += p->numel;
        if (!p->wq) p->qtype = SK_GGML_F32;
    }
    free(m->weights), free(m->weights16), free(m->weightsq);
    m->weights = w32, m->weights16 = w16, m->weightsq = wq, m->hold = hold;
    m->cfg.n_params = (int64_t)count;
    describe(m);
    return 0;
}

void sk_param_read(const SkParam *p, size_t off, size_t n, float *dst) { sk_mat_read(sk_param_mat(p), off, n, dst); }

int sk_model_set_dtype(SkModel *m, SkDtype hold, SkError *err) {
    if (hold != SK_DT_F32 && hold != SK_DT_F16 && hold != SK_DT_BF16)
        return sk_err(err, "weights can be held as F32, F16 or BF16, not %s", sk_dtype_name(hold));
    if (hold == m->hold && !m->weightsq) return 0;
    for (int i = 0; i < m->n_params && hold != SK_DT_F32; i++)
        if (m->params[i].g)
            return sk_err(err, "%s is being trained; trained weights are held in F32", m->params[i].name);
    SkParam *old = malloc((size_t)m->n_params * sizeof *old);
    if (!old) return sk_err(err, "out of memory");
    memcpy(old, m->params, (size_t)m->n_params * sizeof *old);
    float *old32 = m->weights;
    uint16_t *old16 = m->weights16;
    unsigned char *oldq = m->weightsq;
    m->weights = NULL, m->weights16 = NULL, m->weightsq = NULL;
    for (int i = 0; i < m->n_params; i++) m->params[i].qtype = SK_GGML_F32; /* GGUF rows are converted */
    if (sk_weights_alloc(m, hold, err) != 0) { /* keep the old blocks */
        memcpy(m->params, old, (size_t)m->n_params * sizeof *old);
        m->weights = old32, m->weights16 = old16, m->weightsq = oldq;
        describe(m);
        free(old);
        return -1;
    }
    for (int i = 0; i < m->n_params; i++) {
        SkParam *p = &m->params[i];
        if (p->w) sk_param_read(&old[i], 0, p->numel, p->w);
        else if (old[i].w16 && old[i].bf16 == p->bf16) memcpy(p->w16, old[i].w16, p->numel * sizeof(uint16_t));
        else /* from fp32, or between the two 16-bit types: through fp32 in chunks */
            for (size_t k = 0; k < p->numel; k += 4096) {
                float v[4096];
                size_t n = p->numel - k < 4096 ? p->numel - k : 4096;
                sk_param_read(&old[i], k, n, v);
                for (size_t j = 0; j < n; j++) p->w16[k + j] = p->bf16 ? sk_f32_to_bf16(v[j]) : sk_f32_to_f16(v[j]);
            }
    }
    free(old32), free(old16), free(oldq), free(old);
    return 0;
}

SkDtype sk_model_dtype_held(const SkModel *m) { return m->hold; }

size_t sk_model_weight_bytes(const SkModel *m) {
    size_t n = 0;
    for (int i = 0; i < m->n_params; i++) {
        const SkParam *p = &m->params[i];
        n += p->wq ? q_bytes(p) : p->numel * (p->w ? sizeof(float) : sizeof(uint16_t));
    }
    return n;
}

void sk_weights_copy(SkModel *dst, const SkModel *src) {
    for (int i = 0; i < dst->n_params; i++) {
        SkParam *p = &dst->params[i];
        const SkParam *s = &src->params[i];
        if (p->w) memcpy(p->w, s->w, p->numel * sizeof(float));
        else if (p->wq) memcpy(p->wq, s->wq, q_bytes(p));
        else memcpy(p->w16, s->w16, p->numel * sizeof(uint16_t));
    }
}
