// Testbench: feeds whole frames to cellsort_top and checks detection (found, centroid, crop
// corner), trigger, margin and class against what Python computed for the same frames
// (tb_wrapper/expected.txt: cellsort.sorter.fpga_detect and the emulator). Exit 1 on mismatch.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "cellsort_top.h"

int main() {
    std::ifstream frames("tb_wrapper/frames.txt"), expected("tb_wrapper/expected.txt");
    if (!frames || !expected) {
        std::cerr << "missing tb_wrapper/frames.txt or tb_wrapper/expected.txt\n";
        return 2;
    }
    unsigned n, width, height, matched = 0;
    unsigned thr, min_area, max_area, wl, wr, gap, trig;
    double threshold;
    frames >> n >> width >> height >> thr >> min_area >> max_area >> wl >> wr >> gap >> trig >> threshold;
    if (width > CS_MAX_WIDTH || height > CS_MAX_HEIGHT) {
        std::cerr << "frames larger than CS_MAX_WIDTH x CS_MAX_HEIGHT\n";
        return 2;
    }
    detect_regs_t regs;
    regs.threshold = thr; regs.min_area = min_area; regs.max_area = max_area;
    regs.window_left = wl; regs.window_right = wr; regs.max_gap = gap; regs.trigger_col = trig;
    std::vector<beat_t> background(CS_MAX_HEIGHT * CS_MAX_BEATS, 0);
    unsigned beats = (width + CS_PIXELS_PER_CLOCK - 1) / CS_PIXELS_PER_CLOCK;
    for (unsigned r = 0; r < height; r++)
        for (unsigned c = 0; c < width; c++) {
            unsigned v;
            frames >> v;
            unsigned b = c / CS_PIXELS_PER_CLOCK, k = c % CS_PIXELS_PER_CLOCK;
            background[r * CS_MAX_BEATS + b].range(8 * k + 7, 8 * k) = v;
        }
    for (unsigned f = 0; f < n; f++) {
        hls::stream<beat_t> stream("frame");
        std::vector<unsigned> px(width);
        for (unsigned r = 0; r < height; r++) {
            for (unsigned c = 0; c < width; c++) frames >> px[c];
            for (unsigned b = 0; b < beats; b++) {
                beat_t beat = 0;
                for (unsigned k = 0; k < CS_PIXELS_PER_CLOCK; k++) {
                    unsigned c = b * CS_PIXELS_PER_CLOCK + k;
                    if (c < width) beat.range(8 * k + 7, 8 * k) = px[c];
                }
                stream.write(beat);
            }
        }
        unsigned w_found, w_row, w_col, w_top, w_left, w_crossed, w_trigger, w_cls;
        double w_margin;
        expected >> w_found >> w_row >> w_col >> w_top >> w_left >> w_crossed >> w_trigger >> w_margin >> w_cls;
        sort_out_t out;
        cellsort_top(stream, width, height, background.data(), regs, margin_t(threshold), out);
        bool ok = out.found.to_uint() == w_found && out.crossed.to_uint() == w_crossed &&
                  out.trigger.to_uint() == w_trigger;
        if (w_found)
            ok = ok && out.row.to_uint() == w_row && out.col.to_uint() == w_col &&
                 out.crop_top.to_uint() == w_top && out.crop_left.to_uint() == w_left &&
                 out.margin.to_double() == w_margin && out.cls.to_uint() == w_cls;
        matched += ok;
        std::printf("frame %u: found %u at (%u, %u) crop (%u, %u) crossed %u trigger %u margin %.6f class %u %s\n",
                    f, out.found.to_uint(), out.row.to_uint(), out.col.to_uint(), out.crop_top.to_uint(),
                    out.crop_left.to_uint(), out.crossed.to_uint(), out.trigger.to_uint(),
                    out.margin.to_double(), out.cls.to_uint(), ok ? "ok" : "MISMATCH");
    }
    std::printf("wrapper: %u/%u frames match\n", matched, n);
    return matched == n ? 0 : 1;
}
