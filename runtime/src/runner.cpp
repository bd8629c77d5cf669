#include "opticore/runtime/runner.hpp"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/ops/zeros.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace opticore::runtime {
namespace {

// The loader's own errors (c10::Error and others) become std::runtime_error with the path, so a
// caller needs no c10 to handle them; std::invalid_argument passes as it is.
template <class F>
auto with_path(const std::string& path, const char* doing, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(doing) + " " + path + ": " + e.what());
  }
}

void check_package_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(path, error)) throw std::invalid_argument("package_path: no such file: " + path);
  if (fs::is_directory(path, error)) return;  // an unpacked package: the loader checks it
  std::ifstream file(path, std::ios::binary);
  char magic[4] = {};
  if (!file.read(magic, 4) || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4) {
    throw std::runtime_error("cannot load package " + path +
                             ": not a .pt2 package (a zip archive from torch._inductor.aoti_compile_and_package)");
  }
}

c10::Device parse_device(const std::string& text) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(text);
  } catch (const std::exception&) {
    throw std::invalid_argument("device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"" + text + "\"");
  }
  if (device.is_cpu()) return device;
  if (!device.is_cuda())
    throw std::invalid_argument("device: only \"cpu\" and \"cuda[:N]\" run packages, got \"" + text + "\"");
  if (!at::hasCUDA()) {
    throw std::invalid_argument("device \"" + text + "\": this torch has no CUDA support or no GPU is visible");
  }
  const int64_t count = at::detail::getCUDAHooks().deviceCount();
  const int64_t index = device.has_index() ? device.index() : 0;
  if (index >= count) {
    throw std::invalid_argument("device \"" + text + "\": the machine has " + std::to_string(count) + " GPU(s)");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace

struct Runner::Impl {
  std::string path;
  c10::Device device{c10::kCPU};
  std::map<std::string, std::string> metadata;
  std::vector<InputSpec> inputs;
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;
};

Runner::Runner(const std::string& package_path, const RunnerOptions& options) {
  auto loaded = std::make_shared<Impl>();
  Impl& r = *loaded;
  r.path = package_path;
  r.device = parse_device(options.device);
  if (options.num_threads < 0)
    throw std::invalid_argument("num_threads: expected >= 0, got " + std::to_string(options.num_threads));
  if (options.warmup_runs < 0)
    throw std::invalid_argument("warmup_runs: expected >= 0, got " + std::to_string(options.warmup_runs));
  check_package_file(package_path);
  const auto metadata = with_path(package_path, "cannot read the metadata of package", [&] {
    return torch::inductor::AOTIModelPackageLoader::load_metadata_from_package(package_path, "model");
  });
  r.metadata.insert(metadata.begin(), metadata.end());

  const auto key = r.metadata.find("AOTI_DEVICE_KEY");
  const std::string package_device = key == r.metadata.end() ? "cpu" : key->second;
  if (package_device != c10::DeviceTypeName(r.device.type(), /*lower_case=*/true)) {
    throw std::invalid_argument("device \"" + options.device + "\": package " + package_path + " was compiled for \"" +
                                package_device + "\" (export it again for this device)");
  }
  const auto specs = r.metadata.find("opticore.inputs");
  if (specs != r.metadata.end()) {
    r.inputs = parse_input_specs(specs->second);
  } else if (!options.inputs.empty()) {
    r.inputs = options.inputs;
  } else {
    throw std::invalid_argument(
        "package " + package_path +
        " has no \"opticore.inputs\" metadata: pass RunnerOptions::inputs (the compiled code does "
        "not check shapes, so the runner must know them)");
  }
  if (options.num_threads > 0) at::set_num_threads(static_cast<int>(options.num_threads));
  r.loader = with_path(package_path, "cannot load package", [&] {
    const c10::DeviceIndex index = r.device.is_cuda() ? r.device.index() : -1;
    return std::make_unique<torch::inductor::AOTIModelPackageLoader>(package_path, "model", false, 1, index);
  });
  impl_ = std::move(loaded);
  for (int64_t i = 0; i < options.warmup_runs; ++i) {
    std::vector<at::Tensor> zeros;
    for (const InputSpec& spec : r.inputs) {
      std::vector<int64_t> shape;
      // The smallest allowed size, but not an empty batch where a larger one is allowed.
      for (const DimRange& dim : spec.shape) shape.push_back(std::max(dim.min, std::min<int64_t>(1, dim.max)));
      zeros.push_back(at::zeros(shape, at::TensorOptions().dtype(spec.dtype).device(r.device)));
    }
    run(zeros);
  }
}

std::vector<at::Tensor> Runner::run(const std::vector<at::Tensor>& inputs) const {
  const Impl& r = *impl_;
  c10::InferenceMode guard;
  check_inputs(inputs, r.inputs);
  std::vector<at::Tensor> ready;
  ready.reserve(inputs.size());
  for (const at::Tensor& t : inputs) ready.push_back(t.to(r.device).contiguous());
  return with_path(r.path, "running package", [&] { return r.loader->run(ready); });
}

const std::vector<InputSpec>& Runner::input_specs() const { return impl_->inputs; }
c10::Device Runner::device() const { return impl_->device; }
const std::map<std::string, std::string>& Runner::metadata() const { return impl_->metadata; }
const std::string& Runner::path() const { return impl_->path; }

}  // namespace opticore::runtime
