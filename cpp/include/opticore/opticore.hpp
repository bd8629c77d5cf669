// Everything opticore::core offers, in one include.
#pragma once

#include "opticore/version.hpp"
#include "opticore/core/build_info.hpp"
#include "opticore/core/threading.hpp"
#include "opticore/core/view.hpp"
#include "opticore/core/image.hpp"
#include "opticore/boxes/iou.hpp"
#include "opticore/boxes/nms.hpp"
#include "opticore/boxes/batched_nms.hpp"
#include "opticore/boxes/soft_nms.hpp"
#include "opticore/geometry/warp.hpp"
#include "opticore/geometry/random_warp.hpp"
#include "opticore/tracking/fhog.hpp"
#include "opticore/tracking/tracker.hpp"
#include "opticore/tracking/mosse.hpp"
#include "opticore/tracking/kcf.hpp"
