// Testbench: feeds frames to cellsort_top and checks margin, class and trigger against the
// values the Python emulator computed (tb_wrapper/expected.txt). Exit status 1 on mismatch.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cellsort_top.h"

int main() {
    std::ifstream frames("tb_wrapper/frames.txt"), expected("tb_wrapper/expected.txt");
    if (!frames || !expected) {
        std::cerr << "missing tb_wrapper/frames.txt or tb_wrapper/expected.txt\n";
        return 2;
    }
    unsigned n, width, height, matched = 0;
    frames >> n >> width >> height;
    for (unsigned f = 0; f < n; f++) {
        unsigned roi_row, roi_col;
        double threshold, want_margin;
        unsigned want_trigger, want_cls;
        frames >> roi_row >> roi_col >> threshold;
        expected >> want_margin >> want_trigger >> want_cls;
        hls::stream<beat_t> stream("frame");
        for (unsigned r = 0; r < height; r++)
            for (unsigned c0 = 0; c0 < width; c0 += CS_PIXELS_PER_CLOCK) {
                beat_t beat = 0;
                for (unsigned k = 0; k < CS_PIXELS_PER_CLOCK; k++) {
                    unsigned v;
                    frames >> v;
                    beat.range(8 * k + 7, 8 * k) = v;
                }
                stream.write(beat);
            }
        sort_out_t out;
        cellsort_top(stream, width, height, roi_row, roi_col, margin_t(threshold), out);
        bool ok = out.margin.to_double() == want_margin && out.trigger.to_uint() == want_trigger &&
                  out.cls.to_uint() == want_cls;
        matched += ok;
        std::printf("frame %u: margin %.6f trigger %u class %u %s\n", f, out.margin.to_double(),
                    out.trigger.to_uint(), out.cls.to_uint(), ok ? "ok" : "MISMATCH");
    }
    std::printf("wrapper: %u/%u frames match\n", matched, n);
    return matched == n ? 0 : 1;
}
