#include "cellsort_top.h"

static void crop_normalise(hls::stream<beat_t> &frame, ap_uint<16> width, ap_uint<16> height,
                           ap_uint<16> roi_row, ap_uint<16> roi_col, hls::stream<input_t> &net_in) {
rows:
    for (unsigned r = 0; r < height; r++) {
    beats:
        for (unsigned c0 = 0; c0 < width; c0 += CS_PIXELS_PER_CLOCK) {
            #pragma HLS PIPELINE II = 1
            beat_t beat = frame.read();
            for (unsigned k = 0; k < CS_PIXELS_PER_CLOCK; k++) {
                #pragma HLS UNROLL
                unsigned c = c0 + k;
                bool inside = r >= roi_row && r < roi_row + CS_IN_H && c >= roi_col && c < roi_col + CS_IN_W;
                if (inside) {
                    input_t px;
                    px[0] = CS_PIXEL_ROM[beat.range(8 * k + 7, 8 * k).to_uint()];
                    net_in.write(px);
                }
            }
        }
    }
}

void cellsort_top(hls::stream<beat_t> &frame, ap_uint<16> width, ap_uint<16> height,
                  ap_uint<16> roi_row, ap_uint<16> roi_col, margin_t threshold, sort_out_t &out) {
    #pragma HLS INTERFACE axis port = frame
    #pragma HLS INTERFACE s_axilite port = threshold
    #pragma HLS INTERFACE s_axilite port = roi_row
    #pragma HLS INTERFACE s_axilite port = roi_col
    #pragma HLS DATAFLOW
    hls::stream<input_t> net_in("net_in");
    #pragma HLS STREAM variable = net_in depth = CS_IN_W
    hls::stream<result_t> net_out("net_out");
    crop_normalise(frame, width, height, roi_row, roi_col, net_in);
    cellsort_student(net_in, net_out);
    result_t z = net_out.read();
    out.margin = z[1] - z[0];
    out.cls = z[1] > z[0] ? 1 : 0;
    out.trigger = out.margin > threshold;
}
