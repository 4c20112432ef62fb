/* tensor.c - owned float32 tensors handed to clients. */
#include <stdlib.h>

#include "sk_core.h"

int sk_tensor_alloc(SkTensor *t, int ndim, const int64_t *shape, SkError *err) {
    if (ndim < 0 || ndim > SK_MAX_DIMS) return sk_err(err, "tensor rank %d out of range", ndim);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return sk_err(err, "negative tensor dimension %lld", (long long)shape[i]);
        t->shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    t->ndim = ndim;
    t->numel = n;
    t->data = calloc(n ? n : 1, sizeof(float));
    if (!t->data) return sk_err(err, "out of memory for a tensor of %zu floats", n);
    return 0;
}

void sk_tensor_free(SkTensor *t) {
    free(t->data);
    t->data = NULL;
    t->numel = 0;
    t->ndim = 0;
}
