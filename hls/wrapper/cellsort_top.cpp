#include "cellsort_top.h"

#define P CS_PIXELS_PER_CLOCK

// (2 total + n) / (2 n): the mean rounded half up, as cellsort.sorter.fpga_detect.rounded_mean.
static ap_uint<16> rounded_mean(ap_uint<48> total, ap_uint<21> n) {
    return (2 * total + n) / (2 * (ap_uint<48>)n);
}

// Cuts the crop at (top, left) out of the line buffer: one crop row a word, gathered from the
// CS_CROP_BEATS beats it can touch (one buffer read a cycle, one stream write a row).
static void read_crop(beat_t lb[CS_BUF_ROWS][CS_MAX_BEATS], unsigned top, unsigned left,
                      hls::stream<crop_row_t> &crop) {
crop_rows:
    for (unsigned i = 0; i < CS_CROP_H; i++) {
        unsigned slot = (top + i) % CS_BUF_ROWS, b0 = left / P, shift = left % P;
        ap_uint<8 * P * CS_CROP_BEATS> wide = 0;
    gather:
        for (unsigned k = 0; k < CS_CROP_BEATS; k++) {
            #pragma HLS PIPELINE II = 1
            unsigned b = b0 + k;
            wide.range(8 * P * (k + 1) - 1, 8 * P * k) = b < CS_MAX_BEATS ? lb[slot][b] : beat_t(0);
        }
        crop.write(crop_row_t(wide >> (8 * shift)));
    }
}

// Detection on the pixel stream (a beat a cycle): foreground |pixel - background| > threshold
// inside the window; per row, the count, column sum and extent of foreground pixels; an
// object grows over consecutive rows and ends after max_gap + 1 empty rows or at the frame's
// end. The first accepted object's crop leaves as soon as its last row is in the buffer.
static void detect_crop(hls::stream<beat_t> &frame, ap_uint<16> width, ap_uint<16> height,
                        const beat_t background[CS_MAX_HEIGHT * CS_MAX_BEATS], detect_regs_t regs,
                        hls::stream<crop_row_t> &crop, hls::stream<detection_t> &det) {
    static beat_t lb[CS_BUF_ROWS][CS_MAX_BEATS];
    unsigned beats = (width + P - 1) / P;
    bool open = false, chosen = false, pending = false;
    ap_uint<21> area = 0;
    ap_uint<48> sum_r = 0, sum_c = 0;
    unsigned gap = 0, ready = 0;
    detection_t d;
    d.found = 0; d.row = 0; d.col = 0; d.area = 0; d.crop_top = 0; d.crop_left = 0;
frame_rows:
    for (unsigned r = 0; r < height; r++) {
        ap_uint<16> row_count = 0;
        ap_uint<32> row_sum = 0;
    beats_loop:
        for (unsigned b = 0; b < beats; b++) {
            #pragma HLS PIPELINE II = 1
            beat_t beat = frame.read();
            beat_t bg = background[r * CS_MAX_BEATS + b];
            lb[r % CS_BUF_ROWS][b] = beat;
            for (unsigned k = 0; k < P; k++) {
                #pragma HLS UNROLL
                unsigned c = b * P + k;
                ap_uint<8> px = beat.range(8 * k + 7, 8 * k), ref = bg.range(8 * k + 7, 8 * k);
                ap_uint<8> diff = px > ref ? ap_uint<8>(px - ref) : ap_uint<8>(ref - px);
                if (c < width && c >= regs.window_left && c < regs.window_right && diff > regs.threshold) {
                    row_count++;
                    row_sum += c;
                }
            }
        }
        bool closes = false;
        unsigned end_row = r;
        if (row_count > 0) {
            if (!open) { open = true; area = 0; sum_r = 0; sum_c = 0; }
            area += row_count;
            sum_r += (ap_uint<48>)r * row_count;
            sum_c += row_sum;
            gap = 0;
        } else if (open && ++gap > regs.max_gap) {
            closes = true;
        }
        if (open && r == height - 1 && !closes) closes = true;  // the frame's end closes it
        if (closes) {
            open = false;
            ap_uint<16> row = rounded_mean(sum_r, area), col = rounded_mean(sum_c, area);
            int top = int(row) - CS_CROP_H / 2, left = int(col) - CS_CROP_W / 2;
            top = top < 0 ? 0 : (top > int(height) - CS_CROP_H ? int(height) - CS_CROP_H : top);
            left = left < 0 ? 0 : (left > int(width) - CS_CROP_W ? int(width) - CS_CROP_W : left);
            unsigned rdy = end_row > unsigned(top + CS_CROP_H - 1) ? end_row : unsigned(top + CS_CROP_H - 1);
            bool accepted = area >= regs.min_area && area <= regs.max_area &&
                            rdy - top + 1 <= CS_BUF_ROWS;
            if (accepted && !chosen) {
                chosen = pending = true;
                ready = rdy;
                d.found = 1; d.row = row; d.col = col; d.area = area; d.crop_top = top; d.crop_left = left;
            }
        }
        if (pending && r >= ready) {
            read_crop(lb, d.crop_top, d.crop_left, crop);
            pending = false;
        }
    }
    if (!chosen) read_crop(lb, height - CS_CROP_H, 0, crop);  // no cell: the network still runs once
    det.write(d);
}

// Binning: CS_BIN crop rows into one row of CS_IN_W binned pixels (the exact integer mean,
// rounded half up, as cellsort.data.preprocess.bin_pixels); one crop row a cycle.
static void bin_crop(hls::stream<crop_row_t> &crop, hls::stream<binned_row_t> &rows) {
    bin_sum_t acc[CS_IN_W];
    #pragma HLS ARRAY_PARTITION variable = acc complete
crop_rows:
    for (unsigned i = 0; i < CS_CROP_H; i++) {
        #pragma HLS PIPELINE II = 1
        crop_row_t word = crop.read();
        binned_row_t out = 0;
        for (unsigned j = 0; j < CS_IN_W; j++) {
            #pragma HLS UNROLL
            bin_sum_t s = i % CS_BIN == 0 ? bin_sum_t(0) : acc[j];
            for (unsigned k = 0; k < CS_BIN; k++) {
                #pragma HLS UNROLL
                s += word.range(8 * (j * CS_BIN + k) + 7, 8 * (j * CS_BIN + k));
            }
            acc[j] = s;
            out.range(8 * j + 7, 8 * j) = (s + (CS_BIN * CS_BIN) / 2) / (CS_BIN * CS_BIN);
        }
        if (i % CS_BIN == CS_BIN - 1) rows.write(out);
    }
}

// One binned pixel a cycle through the normalisation ROM into the network.
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

// The decision, with the one register of state: the previous frame's centroid column.
static void decide(hls::stream<result_t> &net_out, hls::stream<detection_t> &det,
                   ap_uint<16> trigger_col, margin_t threshold, sort_out_t &out) {
    static bool prev_valid = false;
    static ap_uint<16> prev_col = 0;
    result_t z = net_out.read();
    detection_t d = det.read();
    bool crossed = d.found && d.col >= trigger_col && (!prev_valid || prev_col < trigger_col);
    prev_valid = d.found;
    prev_col = d.col;
    out.found = d.found;
    out.row = d.row;
    out.col = d.col;
    out.crop_top = d.crop_top;
    out.crop_left = d.crop_left;
    out.crossed = crossed;
    // The margin of the sorted class over the largest other logit; the first arg-max class.
    margin_t best_other = z[CS_SORT_CLASS == 0 ? 1 : 0];
    ap_uint<8> arg = 0;
    for (unsigned j = 0; j < CS_N_CLASSES; j++) {
        #pragma HLS UNROLL
        if (j != CS_SORT_CLASS && z[j] > best_other) best_other = z[j];
        if (z[j] > z[arg]) arg = j;
    }
    out.margin = margin_t(z[CS_SORT_CLASS]) - best_other;
    out.cls = arg;
    out.trigger = crossed && out.margin > threshold;
}

void cellsort_top(hls::stream<beat_t> &frame, ap_uint<16> width, ap_uint<16> height,
                  const beat_t background[CS_MAX_HEIGHT * CS_MAX_BEATS], detect_regs_t regs,
                  margin_t threshold, sort_out_t &out) {
    #pragma HLS INTERFACE axis port = frame
    #pragma HLS INTERFACE m_axi port = background offset = slave depth = CS_MAX_HEIGHT * CS_MAX_BEATS
    #pragma HLS INTERFACE s_axilite port = regs
    #pragma HLS INTERFACE s_axilite port = threshold
    #pragma HLS INTERFACE s_axilite port = width
    #pragma HLS INTERFACE s_axilite port = height
    #pragma HLS INTERFACE s_axilite port = return
    #pragma HLS DATAFLOW
    hls::stream<crop_row_t> crop("crop_rows");
    #pragma HLS STREAM variable = crop depth = CS_CROP_H
    hls::stream<detection_t> det("detection");
    hls::stream<binned_row_t> rows("binned_rows");
    #pragma HLS STREAM variable = rows depth = CS_IN_H
    hls::stream<input_t> net_in("net_in");
    #pragma HLS STREAM variable = net_in depth = CS_IN_W
    hls::stream<result_t> net_out("net_out");
    detect_crop(frame, width, height, background, regs, crop, det);
    bin_crop(crop, rows);
    normalise(rows, net_in);
    cellsort_student(net_in, net_out);
    decide(net_out, det, regs.trigger_col, threshold, out);
}
