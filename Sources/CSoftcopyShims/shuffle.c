// Byte shuffle, as blosc and HDF5 do it: within a block of `count` bytes holding
// elements of `size` bytes, all first bytes, then all second bytes, and so on. The
// high bytes of 16-bit images are nearly constant, and grouped they compress; mixed
// with the noisy low bytes they do not (zstd -1 on Poisson-noise uint16 images: 1.39x
// unshuffled, 1.91x shuffled). Bytes after the last whole element are copied as they are.
#include "softcopy_shims.h"
#include <string.h>

void softcopy_shuffle(uint8_t *out, const uint8_t *in, size_t count, size_t size) {
    if (size <= 1) { memcpy(out, in, count); return; }
    size_t elements = count / size;
    for (size_t k = 0; k < size; k++) {
        uint8_t *o = out + k * elements;
        const uint8_t *i = in + k;
        for (size_t e = 0; e < elements; e++) o[e] = i[e * size];
    }
    memcpy(out + elements * size, in + elements * size, count - elements * size);
}

void softcopy_unshuffle(uint8_t *out, const uint8_t *in, size_t count, size_t size) {
    if (size <= 1) { memcpy(out, in, count); return; }
    size_t elements = count / size;
    for (size_t k = 0; k < size; k++) {
        const uint8_t *i = in + k * elements;
        uint8_t *o = out + k;
        for (size_t e = 0; e < elements; e++) o[e * size] = i[e];
    }
    memcpy(out + elements * size, in + elements * size, count - elements * size);
}
