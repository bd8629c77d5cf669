// opticore::runtime::Runner: runs an AOTInductor package (.pt2, from torch.export and
// torch._inductor.aoti_compile_and_package) on the CPU or a CUDA device, with its inputs checked.
//
// Conventions:
//   - A package specialises its graph to the shapes it was exported with, and the compiled code
//     does not check what it is given: a wrong shape reads out of bounds. The runner therefore
//     checks every input against the package's input specs (input_spec.hpp) before running it:
//     the metadata entry "opticore.inputs" that opticore's exporter writes, or the specs passed in
//     RunnerOptions::inputs for packages exported elsewhere. A package with neither is refused.
//   - Inputs may live on any device and have any strides: they are copied to the runner's device
//     and made contiguous when needed. Outputs stay on the runner's device.
//   - The device: "cpu", "cuda" or "cuda:N". It must match the device the package was compiled
//     for (its AOTI_DEVICE_KEY metadata), and a CUDA device needs a CUDA build of torch and a GPU.
//   - Threads: num_threads > 0 sets the process-wide intra-op thread count of torch
//     (at::set_num_threads, which AOTInductor's CPU kernels use) when the runner is created.
//   - A package that calls torch.ops.opticore.* needs the operator library loaded first: link the
//     program with opticore::torch (or load libopticore_torch) before creating the runner.
//   - run() is thread-safe (the package's runner serialises calls) and runs under
//     c10::InferenceMode.
//
// Throws:
//   std::invalid_argument: a missing file, a device string that does not parse, a device the
//     build or machine lacks, a device other than the package's, malformed input specs, a
//     package without input specs; from run(): a wrong number of inputs or a wrong shape
//     (InputTypeError, also a std::invalid_argument, for a wrong dtype).
//   std::runtime_error: a file that is not a readable package (the loader's message included).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "opticore/runtime/input_spec.hpp"

namespace opticore::runtime {

struct RunnerOptions {
  std::string device = "cpu";  ///< "cpu", "cuda" or "cuda:N"
  int64_t num_threads = 0;     ///< > 0: at::set_num_threads(num_threads); 0: leave it
  int64_t warmup_runs = 1;     ///< runs on zero inputs (smallest allowed shape) at creation
  /// Input specs for a package without "opticore.inputs" metadata (ignored when it has them).
  std::vector<InputSpec> inputs;
};

class Runner {
 public:
  /// Loads the package. Copies of a Runner share the loaded package.
  explicit Runner(const std::string& package_path, const RunnerOptions& options = {});

  /// Checks the inputs against input_specs(), moves them to device() and runs the package.
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs) const;

  const std::vector<InputSpec>& input_specs() const;
  c10::Device device() const;
  /// The package's metadata (AOTI_* entries, the exporter's opticore.* entries).
  const std::map<std::string, std::string>& metadata() const;
  const std::string& path() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace opticore::runtime
