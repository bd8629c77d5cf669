#include "opticore/runtime/input_spec.hpp"

#include <array>
#include <cctype>
#include <sstream>
#include <utility>

namespace opticore::runtime {
namespace {

constexpr std::array<std::pair<const char*, c10::ScalarType>, 7> kDtypes{{
    {"uint8", c10::ScalarType::Byte},
    {"int32", c10::ScalarType::Int},
    {"int64", c10::ScalarType::Long},
    {"float16", c10::ScalarType::Half},
    {"bfloat16", c10::ScalarType::BFloat16},
    {"float32", c10::ScalarType::Float},
    {"float64", c10::ScalarType::Double},
}};

const char* dtype_name(c10::ScalarType dtype) {
  for (const auto& [name, type] : kDtypes) {
    if (type == dtype) return name;
  }
  return c10::toString(dtype);
}

// A small cursor over the text, so that every error can say where it is.
class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  bool done() const { return pos_ == text_.size(); }
  bool at_digit() const { return pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])); }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!take(c)) fail(std::string("expected '") + c + "'");
  }
  std::string word() {
    const size_t start = pos_;
    while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  int64_t number() {
    const size_t start = pos_;
    int64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      if (value > (int64_t{1} << 40)) fail("a dimension too large");
      value = value * 10 + (text_[pos_++] - '0');
    }
    if (pos_ == start) fail("expected a dimension size");
    return value;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("input specs \"" + text_ + "\": " + what + " at position " + std::to_string(pos_));
  }

 private:
  const std::string& text_;
  size_t pos_ = 0;
};

InputSpec parse_one(Parser& p) {
  InputSpec spec;
  const std::string name = p.word();
  bool known = false;
  for (const auto& [dtype_text, type] : kDtypes) {
    if (name == dtype_text) {
      spec.dtype = type;
      known = true;
    }
  }
  if (!known) p.fail("unknown dtype '" + name + "'");
  p.expect('[');
  if (p.take(']')) return spec;
  do {
    DimRange dim;
    dim.min = dim.max = p.number();
    if (p.take('.')) {
      p.expect('.');
      dim.max = p.at_digit() ? p.number() : kUnbounded;
      if (dim.max < dim.min) p.fail("an empty range of sizes");
    }
    spec.shape.push_back(dim);
  } while (p.take(','));
  p.expect(']');
  return spec;
}

}  // namespace

std::vector<InputSpec> parse_input_specs(const std::string& text) {
  Parser p(text);
  std::vector<InputSpec> specs;
  if (p.done()) p.fail("no input");
  do {
    specs.push_back(parse_one(p));
  } while (p.take(';'));
  if (!p.done()) p.fail("unexpected text");
  return specs;
}

std::string format_input_specs(const std::vector<InputSpec>& specs) {
  std::ostringstream out;
  for (size_t i = 0; i < specs.size(); ++i) {
    out << (i ? ";" : "") << dtype_name(specs[i].dtype) << '[';
    for (size_t d = 0; d < specs[i].shape.size(); ++d) {
      const DimRange& dim = specs[i].shape[d];
      out << (d ? "," : "") << dim.min;
      if (dim.max == kUnbounded) {
        out << "..";
      } else if (dim.max != dim.min) {
        out << ".." << dim.max;
      }
    }
    out << ']';
  }
  return out.str();
}

void check_inputs(const std::vector<at::Tensor>& inputs, const std::vector<InputSpec>& specs) {
  if (inputs.size() != specs.size()) {
    throw std::invalid_argument("inputs: the package takes " + std::to_string(specs.size()) + " input(s) (" +
                                format_input_specs(specs) + "), got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "inputs[" + std::to_string(i) + "]";
    const at::Tensor& t = inputs[i];
    if (!t.defined()) throw std::invalid_argument(name + ": an undefined tensor");
    const InputSpec& spec = specs[i];
    const std::string wanted = format_input_specs({spec});
    if (t.scalar_type() != spec.dtype) {
      throw InputTypeError(name + ": expected " + wanted + ", got dtype " + dtype_name(t.scalar_type()));
    }
    bool ok = t.dim() == static_cast<int64_t>(spec.shape.size());
    for (int64_t d = 0; ok && d < t.dim(); ++d) {
      ok = t.size(d) >= spec.shape[d].min && t.size(d) <= spec.shape[d].max;
    }
    if (!ok) {
      std::ostringstream got;
      got << t.sizes();
      throw std::invalid_argument(name + ": expected " + wanted + ", got shape " + got.str());
    }
  }
}

}  // namespace opticore::runtime
