// What a package's inputs must look like, and the text form opticore's exporter stores in the
// package's metadata under "opticore.inputs".
//
// Text form: one spec per input, separated by ';': DTYPE[DIM,DIM,...] with DTYPE one of uint8,
// int32, int64, float16, bfloat16, float32, float64 and each DIM either a size (112) or an
// inclusive range of sizes (1..64) for a dynamic dimension, or an open one (1..); e.g.
// "float32[1..64,3,112,112];int64[1..64]". A scalar input is DTYPE[].
//
// Throws: std::invalid_argument (parse_input_specs: text that does not follow the form, with the
//         position; check_inputs: a wrong count or shape; InputTypeError: a wrong dtype).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace opticore::runtime {

/// A wrong input dtype (the Python bindings raise TypeError for it).
class InputTypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The upper end of an open range of sizes ("1..").
constexpr int64_t kUnbounded = INT64_MAX;

struct DimRange {
  int64_t min = 0, max = 0;  ///< inclusive; min == max for a static dimension; max may be kUnbounded
};

struct InputSpec {
  c10::ScalarType dtype = c10::ScalarType::Float;
  std::vector<DimRange> shape;
};

std::vector<InputSpec> parse_input_specs(const std::string& text);
std::string format_input_specs(const std::vector<InputSpec>& specs);
/// Throws unless inputs match specs in number, dtype and shape; names the input and the dimension.
void check_inputs(const std::vector<at::Tensor>& inputs, const std::vector<InputSpec>& specs);

}  // namespace opticore::runtime
