// progressive.cpp — freezing the upper blocks early in training (progressive.h).
#include "train/progressive.h"

#include <algorithm>
#include <string>

#include "tensor/error.h"

namespace splatlm {

ProgressiveFreeze::ProgressiveFreeze(const FlatParameters& flat, int64_t every, int64_t blocks)
    : every_(every), blocks_(blocks) {
    SPLATLM_CHECK(every > 0, "config key 'progressive_every' must be positive to freeze blocks, got ", every);
    SPLATLM_CHECK(flat.device() == Device::CPU, "config key 'progressive_every': progressive training runs on the CPU only");
    for (const FlatParameters::Slot& s : flat.slots())
        if (s.name.rfind("blocks.", 0) == 0)  // "blocks.<b>.…"
            ranges_.push_back({std::stoll(s.name.substr(7)), s.offset, s.tensor.numel()});
}

int64_t ProgressiveFreeze::trainable_blocks(int64_t step) const { return std::min(blocks_, 1 + step / every_); }

void ProgressiveFreeze::hold(int64_t step, FlatParameters& flat) {
    frozen_from_ = trainable_blocks(step);
    held_.clear();
    for (const Range& r : ranges_)
        if (r.block >= frozen_from_) {
            std::fill_n(flat.grads() + r.offset, r.count, 0.f);
            held_.insert(held_.end(), flat.values() + r.offset, flat.values() + r.offset + r.count);
        }
}

void ProgressiveFreeze::restore(FlatParameters& flat) const {
    size_t at = 0;
    for (const Range& r : ranges_)
        if (r.block >= frozen_from_) {
            std::copy_n(held_.begin() + int64_t(at), r.count, flat.values() + r.offset);
            at += size_t(r.count);
        }
}

}  // namespace splatlm
