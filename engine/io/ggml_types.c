/* ggml_types.c - the table of ggml's tensor types as GGUF files number them: name, values
 * per block, bytes per block, and whether sk_dequantize reads the type.
 *
 * Every type ggml has numbered is named (error messages can then say "IQ2_XS" rather than
 * "type 17"), and every type with a block layout has its sizes, so a reader can check a
 * tensor's byte count even for a type it cannot dequantize. Numbers ggml retired without a
 * layout still in GGUF (31-33 and 36-38, the repacked Q4_0_4_4 ... IQ4_NL_8_8) have a name
 * but no sizes, as in ggml; 4 and 5 (Q4_2, Q4_3) were removed before GGUF existed and are
 * unknown. Sizes are ggml's sizeof(block_*): they agree with gguf-py's GGML_QUANT_SIZES
 * except Q8_1, where gguf-py still says 40 bytes (the old layout with two fp32 scales) and
 * ggml's block has two fp16 ones: 36 bytes. */
#include "sk_quant.h"

typedef struct {
    const char *name;
    uint16_t elems, bytes;
    bool supported;
} GgmlTypeInfo;

/* Indexed by the type number; unnamed slots are zero. */
static const GgmlTypeInfo ggml_types[] = {
    [SK_GGML_F32] = {"F32", 1, 4, true},
    [SK_GGML_F16] = {"F16", 1, 2, true},
    [SK_GGML_Q4_0] = {"Q4_0", 32, 18, true},
    [SK_GGML_Q4_1] = {"Q4_1", 32, 20, true},
    [SK_GGML_Q5_0] = {"Q5_0", 32, 22, true},
    [SK_GGML_Q5_1] = {"Q5_1", 32, 24, true},
    [SK_GGML_Q8_0] = {"Q8_0", 32, 34, true},
    [SK_GGML_Q8_1] = {"Q8_1", 32, 36, false}, /* only ever an activation type inside ggml */
    [SK_GGML_Q2_K] = {"Q2_K", 256, 84, true},
    [SK_GGML_Q3_K] = {"Q3_K", 256, 110, true},
    [SK_GGML_Q4_K] = {"Q4_K", 256, 144, true},
    [SK_GGML_Q5_K] = {"Q5_K", 256, 176, true},
    [SK_GGML_Q6_K] = {"Q6_K", 256, 210, true},
    [SK_GGML_Q8_K] = {"Q8_K", 256, 292, false}, /* ditto */
    [16] = {"IQ2_XXS", 256, 66, false},
    [17] = {"IQ2_XS", 256, 74, false},
    [18] = {"IQ3_XXS", 256, 98, false},
    [19] = {"IQ1_S", 256, 50, false},
    [20] = {"IQ4_NL", 32, 18, false},
    [21] = {"IQ3_S", 256, 110, false},
    [22] = {"IQ2_S", 256, 82, false},
    [23] = {"IQ4_XS", 256, 136, false},
    [24] = {"I8", 1, 1, false},
    [25] = {"I16", 1, 2, false},
    [26] = {"I32", 1, 4, false},
    [27] = {"I64", 1, 8, false},
    [28] = {"F64", 1, 8, false},
    [29] = {"IQ1_M", 256, 56, false},
    [SK_GGML_BF16] = {"BF16", 1, 2, true},
    [31] = {"Q4_0_4_4", 0, 0, false},
    [32] = {"Q4_0_4_8", 0, 0, false},
    [33] = {"Q4_0_8_8", 0, 0, false},
    [34] = {"TQ1_0", 256, 54, false},
    [35] = {"TQ2_0", 256, 66, false},
    [36] = {"IQ4_NL_4_4", 0, 0, false},
    [37] = {"IQ4_NL_4_8", 0, 0, false},
    [38] = {"IQ4_NL_8_8", 0, 0, false},
    [39] = {"MXFP4", 32, 17, false},
    [40] = {"NVFP4", 64, 36, false},
    [41] = {"Q1_0", 128, 18, false},
};
_Static_assert(sizeof ggml_types / sizeof ggml_types[0] == SK_GGML_TYPE_COUNT, "the table covers ggml's numbering");

static const GgmlTypeInfo *type_info(uint32_t type) {
    return type < sizeof ggml_types / sizeof ggml_types[0] ? &ggml_types[type] : NULL;
}

size_t sk_ggml_block_elems(uint32_t type) {
    const GgmlTypeInfo *t = type_info(type);
    return t ? t->elems : 0;
}

size_t sk_ggml_block_bytes(uint32_t type) {
    const GgmlTypeInfo *t = type_info(type);
    return t ? t->bytes : 0;
}

const char *sk_ggml_type_name(uint32_t type) {
    const GgmlTypeInfo *t = type_info(type);
    return t ? t->name : NULL;
}

bool sk_ggml_type_supported(uint32_t type) {
    const GgmlTypeInfo *t = type_info(type);
    return t && t->supported;
}

size_t sk_ggml_row_bytes(uint32_t type, int64_t n) {
    const GgmlTypeInfo *t = type_info(type);
    if (!t || !t->elems || n < 0 || n % t->elems) return 0;
    /* A row longer than memory could hold is as unusable as a ragged one: no overflow. */
    uint64_t blocks = (uint64_t)n / t->elems;
    if (blocks > SIZE_MAX / t->bytes) return 0;
    return (size_t)blocks * t->bytes;
}
