/* Compiled steps of cellsort.sorter.detect; cellsort.sorter.fast_ops loads them.
 *
 * Each function computes what the SciPy operation named beside it computes, bit for bit
 * (tests/test_detect_rule.py compares them): the same arithmetic in the same order for the
 * Gaussian, exact integer algorithms for the binary operations and the distance transform.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* scipy.ndimage "reflect" extension: (d c b a | a b c d | d c b a). */
static int64_t reflect(int64_t i, int64_t n) {
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
}

/* scipy.ndimage.gaussian_filter of a float32 (h, w) image, mode "reflect": a symmetric
 * correlation along axis 0, then along axis 1, each summed in double as NI_Correlate1D's
 * symmetric branch does (centre tap first, then the pairs from the outermost inwards) and
 * stored as float32. wt[0] is the centre weight, wt[k] the weight at distance k <= r. */
int gaussian(const float *in, float *out, int64_t h, int64_t w, const double *wt, int64_t r) {
    double *acc = malloc(sizeof(double) * (size_t)(w + 2 * r));
    float *mid = malloc(sizeof(float) * (size_t)(h * w));
    if (!acc || !mid) { free(acc); free(mid); return -1; }
    for (int64_t i = 0; i < h; ++i) {
        const float *row = in + i * w;
        for (int64_t j = 0; j < w; ++j) acc[j] = (double)row[j] * wt[0];
        for (int64_t k = r; k >= 1; --k) {
            const float *a = in + reflect(i - k, h) * w, *b = in + reflect(i + k, h) * w;
            for (int64_t j = 0; j < w; ++j) acc[j] += ((double)a[j] + (double)b[j]) * wt[k];
        }
        for (int64_t j = 0; j < w; ++j) mid[i * w + j] = (float)acc[j];
    }
    double *line = malloc(sizeof(double) * (size_t)(w + 2 * r));
    if (!line) { free(acc); free(mid); return -1; }
    for (int64_t i = 0; i < h; ++i) {
        const float *row = mid + i * w;
        for (int64_t j = -r; j < w + r; ++j) line[j + r] = (double)row[reflect(j, w)];
        const double *c = line + r;
        for (int64_t j = 0; j < w; ++j) acc[j] = c[j] * wt[0];
        for (int64_t k = r; k >= 1; --k)
            for (int64_t j = 0; j < w; ++j) acc[j] += (c[j - k] + c[j + k]) * wt[k];
        for (int64_t j = 0; j < w; ++j) out[i * w + j] = (float)acc[j];
    }
    free(acc); free(mid); free(line);
    return 0;
}

/* Running "any" (grow != 0) or "all" along each row over [x - half, x + half], outside
 * the row counting as 0, from prefix sums of the row (the interior loop vectorises). */
static void row_runs(const uint8_t *m, uint8_t *out, int64_t h, int64_t w, int64_t half,
                     int grow, int32_t *prefix) {
    for (int64_t y = 0; y < h; ++y) {
        const uint8_t *row = m + y * w;
        uint8_t *o = out + y * w;
        prefix[0] = 0;
        for (int64_t x = 0; x < w; ++x) prefix[x + 1] = prefix[x] + row[x];
        int64_t first = half < w ? half : w, last = w - half - 1;  /* interior: [first, last] */
        for (int64_t x = 0; x < w; ++x) {
            if (x == first && first <= last) {
                const int32_t full = (int32_t)(2 * half + 1);
                for (; x <= last; ++x) {
                    int32_t n = prefix[x + half + 1] - prefix[x - half];
                    o[x] = grow ? n > 0 : n == full;
                }
                if (x >= w) break;
            }
            int64_t l = x - half < 0 ? 0 : x - half, u = x + half + 1 > w ? w : x + half + 1;
            o[x] = grow ? prefix[u] - prefix[l] > 0 : 0;  /* an edge window reaches outside */
        }
    }
}

/* scipy.ndimage.binary_closing(m, structure) for a structure whose rows are centred runs
 * (a disk): half[d] is the half width of row d = 0 .. 2r (offset d - r), negative for an
 * empty row. Dilation ORs the rows' running "any", erosion ANDs their running "all";
 * outside the array is 0 for both (border_value 0). Rows of equal width share one run. */
int closing(const uint8_t *m, uint8_t *out, int64_t h, int64_t w, const int64_t *half, int64_t r) {
    uint8_t *grown = calloc((size_t)(h * w), 1), *run = malloc((size_t)(h * w));
    int32_t *prefix = malloc(sizeof(int32_t) * (size_t)(w + 1));
    if (!grown || !run || !prefix) { free(grown); free(run); free(prefix); return -1; }
    memset(out, 1, (size_t)(h * w));
    for (int phase = 0; phase < 2; ++phase) {
        for (int64_t d = 0; d <= 2 * r; ++d) {
            int64_t dup = 0;
            for (int64_t e = 0; e < d; ++e) dup |= half[e] == half[d];
            if (half[d] < 0 || dup) continue;
            row_runs(phase ? grown : m, run, h, w, half[d], !phase, prefix);
            for (int64_t e = d; e <= 2 * r; ++e) {
                if (half[e] != half[d]) continue;
                int64_t dy = e - r;
                for (int64_t y = 0; y < h; ++y) {
                    int64_t src = phase ? y + dy : y - dy;
                    uint8_t *o = (phase ? out : grown) + y * w;
                    if (src < 0 || src >= h) {
                        if (phase) memset(o, 0, (size_t)w);
                        continue;
                    }
                    const uint8_t *q = run + src * w;
                    if (phase) for (int64_t x = 0; x < w; ++x) o[x] &= q[x];
                    else for (int64_t x = 0; x < w; ++x) o[x] |= q[x];
                }
            }
        }
    }
    free(grown); free(run); free(prefix);
    return 0;
}

/* scipy.ndimage.binary_fill_holes(m): background pixels that no 4-connected path of
 * background joins to the array's edge become foreground. */
int fill_holes(const uint8_t *m, uint8_t *out, int64_t h, int64_t w) {
    int64_t n = h * w, top = 0;
    int64_t *stack = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    uint8_t *outside = calloc((size_t)(n > 0 ? n : 1), 1);
    if (!stack || !outside) { free(stack); free(outside); return -1; }
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            if ((y == 0 || y == h - 1 || x == 0 || x == w - 1) && !m[y * w + x] && !outside[y * w + x]) {
                outside[y * w + x] = 1;
                stack[top++] = y * w + x;
            }
    while (top) {
        int64_t p = stack[--top], y = p / w, x = p % w;
        int64_t next[4] = {y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1,
                           x < w - 1 ? p + 1 : -1};
        for (int k = 0; k < 4; ++k) {
            int64_t q = next[k];
            if (q >= 0 && !m[q] && !outside[q]) { outside[q] = 1; stack[top++] = q; }
        }
    }
    for (int64_t p = 0; p < n; ++p) out[p] = m[p] || !outside[p];
    free(stack); free(outside);
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b) {  /* b > 0 */
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* scipy.ndimage.distance_transform_edt(m): Euclidean distance of every pixel to the nearest
 * zero pixel of the array, as sqrt of the exact integer squared distance (Meijster, Roerdink
 * and Hesselink's two-pass algorithm in integer arithmetic). Needs at least one zero. */
int distance(const uint8_t *m, double *out, int64_t h, int64_t w) {
    const int64_t inf = h + w;
    int64_t *g = malloc(sizeof(int64_t) * (size_t)(h * w));
    int64_t *s = malloc(sizeof(int64_t) * (size_t)w), *t = malloc(sizeof(int64_t) * (size_t)w);
    if (!g || !s || !t) { free(g); free(s); free(t); return -1; }
    for (int64_t x = 0; x < w; ++x) {
        g[x] = m[x] ? inf : 0;
        for (int64_t y = 1; y < h; ++y) g[y * w + x] = m[y * w + x] ? g[(y - 1) * w + x] + 1 : 0;
        for (int64_t y = h - 2; y >= 0; --y)
            if (g[(y + 1) * w + x] < g[y * w + x]) g[y * w + x] = g[(y + 1) * w + x] + 1;
    }
    for (int64_t y = 0; y < h; ++y) {
        const int64_t *gy = g + y * w;
#define F(x, i) (((x) - (i)) * ((x) - (i)) + gy[i] * gy[i])
        int64_t q = 0;
        s[0] = 0; t[0] = 0;
        for (int64_t u = 1; u < w; ++u) {
            while (q >= 0 && F(t[q], s[q]) > F(t[q], u)) --q;
            if (q < 0) { q = 0; s[0] = u; }
            else {
                int64_t i = s[q];
                int64_t sep = 1 + floor_div(u * u - i * i + gy[u] * gy[u] - gy[i] * gy[i], 2 * (u - i));
                if (sep < w) { ++q; s[q] = u; t[q] = sep; }
            }
        }
        for (int64_t u = w - 1; u >= 0; --u) {
            out[y * w + u] = sqrt((double)F(u, s[q]));
            if (u == t[q]) --q;
        }
#undef F
    }
    free(g); free(s); free(t);
    return 0;
}

/* Order of candidate peaks: higher value first, then row-major position (a stable sort). */
typedef struct { double v; int64_t pos; } peak_t;

static int by_value(const void *a, const void *b) {
    const peak_t *p = a, *q = b;
    if (p->v != q->v) return p->v < q->v ? 1 : -1;
    return (p->pos > q->pos) - (p->pos < q->pos);
}

/* Running maximum over [i - half, i + half] with the "nearest" extension, along lines of
 * n values (stride step; m lines, line stride ls) of a double image: van Herk / Gil-Werman
 * block maxima on the edge-extended line (``buf`` holds 3 (n + 2 half + K) doubles). */
static void running_max(const double *in, double *out, int64_t n, int64_t m, int64_t step,
                        int64_t ls, int64_t half, double *buf) {
    const int64_t k = 2 * half + 1, len = n + 2 * half, blocks = (len + k - 1) / k * k;
    double *p = buf, *pre = buf + blocks, *suf = buf + 2 * blocks;
    for (int64_t l = 0; l < m; ++l) {
        const double *src = in + l * ls;
        for (int64_t i = 0; i < blocks; ++i) {
            int64_t c = i - half < 0 ? 0 : (i - half >= n ? n - 1 : i - half);
            p[i] = src[c * step];
        }
        for (int64_t b = 0; b < blocks; b += k) {
            pre[b] = p[b];
            for (int64_t i = b + 1; i < b + k; ++i) pre[i] = p[i] > pre[i - 1] ? p[i] : pre[i - 1];
            suf[b + k - 1] = p[b + k - 1];
            for (int64_t i = b + k - 2; i >= b; --i) suf[i] = p[i] > suf[i + 1] ? p[i] : suf[i + 1];
        }
        double *dst = out + l * ls;
        for (int64_t i = 0; i < n; ++i) {  /* window [i, i + k - 1] of the extended line */
            double a = suf[i], b = pre[i + k - 1];
            dst[i * step] = a > b ? a : b;
        }
    }
}

/* skimage.feature.peak_local_max(d, min_distance=md, labels=labels, exclude_border=False):
 * for each label in turn, on its bounding box (other pixels at -DBL_MAX), the pixels equal
 * to the (2 md + 1)^2 running maximum ("nearest" edges) and above the image's minimum --
 * or, where every pixel of the label is such a maximum, the pixels a cross-shaped opening
 * removes -- sorted by value (stable), then kept greedily at Chebyshev distance >= md from
 * every kept one (when md > 1). Writes (row, col) pairs to coords; returns their number,
 * or -1 when out of memory. */
int64_t peaks(const double *d, const int32_t *labels, int64_t h, int64_t w, int64_t nlab,
              int64_t md, int64_t *coords) {
    int64_t n = h * w, found = 0;
    double threshold = INFINITY;
    for (int64_t p = 0; p < n; ++p) if (d[p] < threshold) threshold = d[p];
    int64_t *box = malloc(sizeof(int64_t) * 4 * (size_t)(nlab + 1));
    double *img = malloc(sizeof(double) * (size_t)n), *tmp = malloc(sizeof(double) * (size_t)n);
    double *mx = malloc(sizeof(double) * (size_t)n);
    uint8_t *in = malloc((size_t)n), *cand = malloc((size_t)n), *er = malloc((size_t)n);
    peak_t *list = malloc(sizeof(peak_t) * (size_t)n);
    int64_t *kept = malloc(sizeof(int64_t) * (size_t)n);
    const int64_t longest = (h > w ? h : w) + 4 * md + 2;
    double *line = malloc(sizeof(double) * 3 * (size_t)longest);
    if (!box || !img || !tmp || !mx || !in || !cand || !er || !list || !kept || !line) {
        found = -1;
        goto done;
    }
    for (int64_t k = 0; k <= nlab; ++k) {
        box[4 * k] = h; box[4 * k + 1] = w; box[4 * k + 2] = -1; box[4 * k + 3] = -1;
    }
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            int64_t k = labels[y * w + x];
            if (k <= 0 || k > nlab) continue;
            int64_t *b = box + 4 * k;
            if (y < b[0]) b[0] = y;
            if (x < b[1]) b[1] = x;
            if (y > b[2]) b[2] = y;
            if (x > b[3]) b[3] = x;
        }
    for (int64_t k = 1; k <= nlab; ++k) {
        const int64_t *b = box + 4 * k;
        if (b[2] < 0) continue;
        int64_t bh = b[2] - b[0] + 1, bw = b[3] - b[1] + 1, bn = bh * bw;
        for (int64_t y = 0; y < bh; ++y)
            for (int64_t x = 0; x < bw; ++x) {
                int64_t p = (b[0] + y) * w + b[1] + x;
                in[y * bw + x] = labels[p] == k;
                img[y * bw + x] = labels[p] == k ? d[p] : -DBL_MAX;
            }
        if (bn == 1) {
            cand[0] = img[0] > threshold;
        } else {
            running_max(img, tmp, bh, bw, bw, 1, md, line);   /* along axis 0 */
            running_max(tmp, mx, bw, bh, 1, bw, md, line);    /* along axis 1 */
            int trivial = 1;
            for (int64_t p = 0; p < bn; ++p) {
                cand[p] = img[p] == mx[p];
                if (in[p] && !cand[p]) trivial = 0;
            }
            if (trivial) {  /* isolated pixels: the mask minus its opening with a cross */
                for (int64_t y = 0; y < bh; ++y)
                    for (int64_t x = 0; x < bw; ++x) {
                        int64_t p = y * bw + x;
                        er[p] = in[p] && y > 0 && in[p - bw] && y < bh - 1 && in[p + bw]
                                && x > 0 && in[p - 1] && x < bw - 1 && in[p + 1];
                    }
                for (int64_t y = 0; y < bh; ++y)
                    for (int64_t x = 0; x < bw; ++x) {
                        int64_t p = y * bw + x;
                        int opened = er[p] || (y > 0 && er[p - bw]) || (y < bh - 1 && er[p + bw])
                                     || (x > 0 && er[p - 1]) || (x < bw - 1 && er[p + 1]);
                        cand[p] = in[p] != opened;
                    }
            }
            for (int64_t p = 0; p < bn; ++p) cand[p] = cand[p] && img[p] > threshold;
        }
        int64_t m = 0;
        for (int64_t p = 0; p < bn; ++p)
            if (cand[p]) { list[m].v = img[p]; list[m].pos = p; ++m; }
        qsort(list, (size_t)m, sizeof(peak_t), by_value);
        int64_t nk = 0;
        for (int64_t i = 0; i < m; ++i) {
            int64_t y = list[i].pos / bw, x = list[i].pos % bw, ok = 1;
            if (md > 1)
                for (int64_t j = 0; j < nk && ok; ++j) {
                    int64_t dy = llabs(kept[j] / bw - y), dx = llabs(kept[j] % bw - x);
                    if ((dy > dx ? dy : dx) < md) ok = 0;
                }
            if (!ok) continue;
            kept[nk++] = list[i].pos;
            coords[2 * found] = b[0] + y;
            coords[2 * found + 1] = b[1] + x;
            ++found;
        }
    }
done:
    free(box); free(img); free(tmp); free(mx); free(in); free(cand); free(er); free(list); free(kept);
    free(line);
    return found;
}
