// FHOG features: the 31-channel HOG variant of Felzenszwalb et al. (PAMI 2010, "Object detection
// with discriminatively trained part-based models"), computed the way Piotr Dollar's toolbox
// `fhog(I, binSize, 9, 0.2)` computes it — the features of the KCF tracker (Henriques et al. 2015).
//
// Conventions:
//   - The image is H x W x C, C in 1..4, uint8_t or float (float on the 0..255 scale: a float image
//     equal to a uint8 image gives the same features), read through a strided view (any layout).
//   - Gradients: centred differences (I(x+1) - I(x-1)) / 2, one-sided I(1) - I(0) and
//     I(W-1) - I(W-2) on the image border, 0 along an axis of length 1. With several channels the
//     channel with the largest squared magnitude wins at each pixel (the first one on ties).
//     Every pixel of the image is used as a neighbour, also those beyond the cell grid.
//   - Orientation: angle = atan2(dy, dx) in [0, 2 pi), dx along columns (rightwards), dy along rows
//     (downwards). It goes to the NEAREST of 18 signed bins centred at k * 20 degrees (as Dollar's
//     fhog, softBin = -1; no interpolation between orientations). Exactly half-way angles (only
//     90 and 270 degrees are possible for rational gradients) go to the larger angle: 90 -> bin 5,
//     270 -> bin 14, as Dollar's code gives.
//   - Cells: rows = floor(H / cell_size), cols = floor(W / cell_size); pixels in the last
//     H % cell_size rows and W % cell_size columns do not vote. A pixel at (x, y) votes its
//     gradient magnitude / cell_size^2 into the four cells around its position
//     ((x + 0.5) / cell_size - 0.5, (y + 0.5) / cell_size - 0.5) in cell units, with bilinear
//     weights (cells outside the grid are dropped). The cells of the first and last grid row and
//     column are then multiplied by 8/7 (a corner cell twice), because they receive 7/8 of an
//     interior cell's weight (Dollar's correction, applied for every cell size).
//   - Normalisation: the 9 unsigned bins (bin k + bin k+9) give each cell an energy (sum of
//     squares); a 2x2-cell block has the norm 1 / sqrt(sum of its 4 energies + 1e-4 / (4 s^4))
//     (s = cell_size; Dollar's eps, 1e-4 / 4 for unscaled magnitudes). A cell reads the 4 blocks
//     that contain it; at the grid edge the nearest block is used instead (the block grid is
//     edge-padded, as in Dollar's hogNormMatrix). A grid axis with a single cell has one block,
//     that cell counted twice (Dollar's code needs 2 cells per axis; this extends it).
//   - Features of a cell, with t_k(h) = min(h * norm_k, 0.2) for the blocks k = 0..3:
//       channels  0..17: sum_k 0.5 * t_k(signed bin o)        (contrast sensitive, o = 0..17)
//       channels 18..26: sum_k 0.5 * t_k(unsigned bin o)      (contrast insensitive, o = 0..8)
//       channels 27..30: sum_o 0.2357 * t_k(signed bin o)     (texture: block k = 0..3)
//     Blocks k: 0 = cells (r..r+1, c..c+1), 1 = (r-1..r, c..c+1), 2 = (r..r+1, c-1..c),
//     3 = (r-1..r, c-1..c) (rows, cols). Dollar's 32nd, all-zero truncation channel is omitted.
//
// Requires: a non-empty image with 1..4 channels, finite pixel values (a float image with NaN or
//           inf is rejected: the block normalisation would turn it into finite features),
//           cell_size >= 1, at least one cell per axis (H >= cell_size and W >= cell_size), `out`
//           not null.
// Throws:   std::invalid_argument naming the argument otherwise.
//
// Threads: runs on the calling thread (a tracker patch takes well under a millisecond); calls
// on different images may run concurrently.
#pragma once

#include <cstdint>

#include "opticore/core/image.hpp"

namespace opticore {

/// Number of FHOG feature channels per cell.
constexpr int64_t kFhogChannels = 31;

/// The FHOG cell grid.
struct FhogSize {
  int64_t rows;
  int64_t cols;
};

/// Cells of the FHOG grid for an image of height x width (throws std::invalid_argument on bad input).
FhogSize fhog_size(int64_t height, int64_t width, int64_t cell_size);

/// Writes rows*cols*31 floats to `out`, C-contiguous (row, col, channel).
template <class T>
void fhog(ImageView<T> image, int64_t cell_size, float* out);

}  // namespace opticore
