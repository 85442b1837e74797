#include "cellsort_top.h"

// Front end, part 1: one beat (CS_PIXELS_PER_CLOCK pixels) a cycle. Pixels inside the crop
// add into the running sum of their bin column; when the beat holding the last crop column
// of a bin row's last row arrives, the CS_IN_W binned pixels leave as one wide word. Every
// iteration writes at most one word to one stream, so the loop is schedulable at II 1.
static void crop_bin(hls::stream<beat_t> &frame, ap_uint<16> width, ap_uint<16> height,
                     ap_uint<16> roi_row, ap_uint<16> roi_col, hls::stream<binned_row_t> &rows) {
    bin_sum_t acc[CS_IN_W];
    #pragma HLS ARRAY_PARTITION variable = acc complete
    for (unsigned j = 0; j < CS_IN_W; j++) {
        #pragma HLS UNROLL
        acc[j] = 0;
    }
frame_rows:
    for (unsigned r = 0; r < height; r++) {
    beats:
        for (unsigned c0 = 0; c0 < width; c0 += CS_PIXELS_PER_CLOCK) {
            #pragma HLS PIPELINE II = 1
            beat_t beat = frame.read();
            bool row_inside = r >= roi_row && r < roi_row + CS_CROP_H;
            bool last_bin_row = row_inside && (r - roi_row) % CS_BIN == CS_BIN - 1;
            bool row_ends = false;
            for (unsigned k = 0; k < CS_PIXELS_PER_CLOCK; k++) {
                #pragma HLS UNROLL
                unsigned c = c0 + k;
                if (row_inside && c >= roi_col && c < roi_col + CS_CROP_W) {
                    unsigned j = (c - roi_col) / CS_BIN;
                    acc[j] += beat.range(8 * k + 7, 8 * k);
                    row_ends |= c == roi_col + CS_CROP_W - 1;
                }
            }
            if (last_bin_row && row_ends) {
                binned_row_t word = 0;
                for (unsigned j = 0; j < CS_IN_W; j++) {
                    #pragma HLS UNROLL
                    word.range(8 * j + 7, 8 * j) = (acc[j] + (CS_BIN * CS_BIN) / 2) / (CS_BIN * CS_BIN);
                    acc[j] = 0;
                }
                rows.write(word);
            }
        }
    }
}

// Front end, part 2: one binned pixel a cycle through the normalisation ROM into the network.
static void normalise(hls::stream<binned_row_t> &rows, hls::stream<input_t> &net_in) {
bin_rows:
    for (unsigned i = 0; i < CS_IN_H; i++) {
        binned_row_t word = rows.read();
    pixels:
        for (unsigned j = 0; j < CS_IN_W; j++) {
            #pragma HLS PIPELINE II = 1
            input_t px;
            px[0] = CS_PIXEL_ROM[word.range(8 * j + 7, 8 * j).to_uint()];
            net_in.write(px);
        }
    }
}

static void decide(hls::stream<result_t> &net_out, margin_t threshold, sort_out_t &out) {
    result_t z = net_out.read();
    out.margin = z[1] - z[0];
    out.cls = z[1] > z[0] ? 1 : 0;
    out.trigger = out.margin > threshold;
}

void cellsort_top(hls::stream<beat_t> &frame, ap_uint<16> width, ap_uint<16> height,
                  ap_uint<16> roi_row, ap_uint<16> roi_col, margin_t threshold, sort_out_t &out) {
    #pragma HLS INTERFACE axis port = frame
    #pragma HLS INTERFACE s_axilite port = threshold
    #pragma HLS INTERFACE s_axilite port = roi_row
    #pragma HLS INTERFACE s_axilite port = roi_col
    #pragma HLS DATAFLOW
    hls::stream<binned_row_t> rows("binned_rows");
    #pragma HLS STREAM variable = rows depth = CS_IN_H
    hls::stream<input_t> net_in("net_in");
    #pragma HLS STREAM variable = net_in depth = CS_IN_W
    hls::stream<result_t> net_out("net_out");
    crop_bin(frame, width, height, roi_row, roi_col, rows);
    normalise(rows, net_in);
    cellsort_student(net_in, net_out);
    decide(net_out, threshold, out);
}
