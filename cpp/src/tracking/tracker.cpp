#include "opticore/tracking/tracker.hpp"

#include <stdexcept>

#include "tracking/detail/patch.hpp"

namespace opticore {

Tracker::~Tracker() = default;

void Tracker::init(Frame image, const TrackBox& box) {
  std::visit(
      [&](const auto& view) {
        detail::check_frame(view);
        detail::check_finite_pixels(view, "image");
        detail::check_initial_box(box, view);
      },
      image);
  // Uninitialised until the new target is learnt: a failure half-way must not leave a mix of
  // the old and the new model behind.
  initialized_ = false;
  do_init(image, box);
  initialized_ = true;
  last_ = {true, box, 0.0};
}

TrackResult Tracker::update(Frame image) {
  if (!initialized_) throw std::logic_error("update: call init() first");
  std::visit(
      [&](const auto& view) {
        detail::check_frame(view);
        detail::check_finite_pixels(view, "image", reach());
      },
      image);
  last_ = do_update(image);
  return last_;
}

}  // namespace opticore
