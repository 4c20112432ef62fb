/* npy.c - NumPy .npy version 1.0/2.0 files. Writes float32 C order; reads float32,
 * float64, int32, int64 and uint8 (little-endian, C order) into float32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_io.h"

int sk_npy_save(const char *path, const float *data, int ndim, const int64_t *shape,
                SkError *err) {
    char dict[512];
    int pos = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        pos += snprintf(dict + pos, sizeof dict - (size_t)pos, "%lld%s", (long long)shape[i],
                        ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        n *= (size_t)shape[i];
    }
    pos += snprintf(dict + pos, sizeof dict - (size_t)pos, "), }");
    size_t hlen = 10 + (size_t)pos + 1;
    size_t padded = (hlen + 63) & ~(size_t)63;
    size_t total = padded + n * sizeof(float);
    unsigned char *buf = malloc(total);
    if (!buf) return sk_err(err, "%s: out of memory", path);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    uint16_t hl = (uint16_t)(padded - 10);
    buf[8] = (unsigned char)(hl & 0xff);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, dict, (size_t)pos);
    memset(buf + 10 + pos, ' ', padded - 10 - (size_t)pos - 1);
    buf[padded - 1] = '\n';
    if (n) memcpy(buf + padded, data, n * sizeof(float));
    int rc = sk_write_file_atomic(path, buf, total, err);
    free(buf);
    return rc;
}

int sk_npy_load(const char *path, SkTensor *out, SkError *err) {
    char *raw;
    size_t len;
    memset(out, 0, sizeof *out);
    if (sk_read_file(path, &raw, &len, err) != 0) return -1;
    const unsigned char *p = (const unsigned char *)raw;
    int rc = -1;
    if (len < 10 || memcmp(p, "\x93NUMPY", 6) != 0) {
        sk_err(err, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen, hstart;
    if (p[6] == 1) {
        hlen = (size_t)p[8] | ((size_t)p[9] << 8);
        hstart = 10;
    } else if (p[6] == 2 || p[6] == 3) {
        if (len < 12) {
            sk_err(err, "%s: truncated header", path);
            goto done;
        }
        hlen = (size_t)p[8] | ((size_t)p[9] << 8) | ((size_t)p[10] << 16) | ((size_t)p[11] << 24);
        hstart = 12;
    } else {
        sk_err(err, "%s: unsupported .npy version %d", path, p[6]);
        goto done;
    }
    if (hstart + hlen > len) {
        sk_err(err, "%s: header runs past the end of the file", path);
        goto done;
    }
    char hdr[4096];
    if (hlen >= sizeof hdr) {
        sk_err(err, "%s: header too long", path);
        goto done;
    }
    memcpy(hdr, raw + hstart, hlen);
    hdr[hlen] = 0;
    const char *d = strstr(hdr, "'descr'"), *fo = strstr(hdr, "'fortran_order'"),
               *sh = strstr(hdr, "'shape'");
    if (!d || !fo || !sh) {
        sk_err(err, "%s: header lacks descr, fortran_order or shape", path);
        goto done;
    }
    char descr[16] = {0};
    if (sscanf(d, "'descr': '%15[^']'", descr) != 1) {
        sk_err(err, "%s: cannot read descr", path);
        goto done;
    }
    if (strstr(fo, "True") == fo + strlen("'fortran_order': ")) {
        sk_err(err, "%s: Fortran-order arrays are not supported (save with C order)", path);
        goto done;
    }
    int64_t shape[SK_MAX_DIMS];
    int nd = 0;
    const char *s = strchr(sh, '(');
    if (!s) {
        sk_err(err, "%s: cannot read shape", path);
        goto done;
    }
    s++;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        char *e;
        long long v = strtoll(s, &e, 10);
        if (e == s || v < 0 || nd >= SK_MAX_DIMS) {
            sk_err(err, "%s: bad shape in header", path);
            goto done;
        }
        shape[nd++] = v;
        s = e;
    }
    size_t esize;
    if (strcmp(descr, "<f4") == 0 || strcmp(descr, "<i4") == 0) esize = 4;
    else if (strcmp(descr, "<f8") == 0 || strcmp(descr, "<i8") == 0) esize = 8;
    else if (strcmp(descr, "|u1") == 0 || strcmp(descr, "|b1") == 0) esize = 1;
    else {
        sk_err(err, "%s: dtype %s not supported (use float32)", path, descr);
        goto done;
    }
    if (sk_tensor_alloc(out, nd, shape, err) != 0) goto done;
    const unsigned char *data = p + hstart + hlen;
    if ((size_t)(len - hstart - hlen) != out->numel * esize) {
        sk_err(err, "%s: %zu data bytes for %zu values of %s", path, len - hstart - hlen,
               out->numel, descr);
        sk_tensor_free(out);
        goto done;
    }
    for (size_t i = 0; i < out->numel; i++) {
        const unsigned char *q = data + i * esize;
        if (strcmp(descr, "<f4") == 0) memcpy(&out->data[i], q, 4);
        else if (strcmp(descr, "<f8") == 0) {
            double v;
            memcpy(&v, q, 8);
            out->data[i] = (float)v;
        } else if (strcmp(descr, "<i4") == 0) {
            int32_t v;
            memcpy(&v, q, 4);
            out->data[i] = (float)v;
        } else if (strcmp(descr, "<i8") == 0) {
            int64_t v;
            memcpy(&v, q, 8);
            out->data[i] = (float)v;
        } else out->data[i] = (float)q[0];
    }
    rc = 0;
done:
    free(raw);
    return rc;
}
