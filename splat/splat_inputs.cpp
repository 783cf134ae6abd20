// splat_inputs.cpp — the checks every entry point of the splat op runs on its inputs (splat_inputs.h).
#include "splat/splat_inputs.h"

#include "nn/heads.h"
#include "tensor/error.h"

namespace splatlm {

Device check_splat_inputs(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                          const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o, int64_t rank) {
    const Device device = q.device();
    for (const auto& [t, name] :
         {std::pair{&k, "k"}, std::pair{&v, "v"}, std::pair{&centres, "centres"}, std::pair{&log_scale, "log_scale"},
          std::pair{&log_amp, "log_amp"}, std::pair{&o.log_decay, "log_decay"}, std::pair{&o.send_bias, "send_bias"},
          std::pair{&o.read_bias, "read_bias"}, std::pair{&o.token_decay, "token_decay"}})
        SPLATLM_CHECK(!t->defined() || t->device() == device, op, ": inputs on different devices: q ",
                      shape_str(q.shape()), " on ", device_name(device), ", ", name, " ", shape_str(t->shape()), " on ",
                      device_name(t->device()));
    if (device == Device::CPU) {
        check_heads(op, q, k, v, rank);
    } else {
        SPLATLM_CHECK(q.dim() == rank && q.shape() == k.shape() && q.shape() == v.shape(), op,
                      ": q, k, v must share one ", rank == 4 ? "[B, H, T, D]" : "[B, H, D]", " shape, got ",
                      shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
        SPLATLM_CHECK(o.top == 0, op, ": top-p routing (top = ", o.top, ") is not implemented on CUDA yet");
    }
    const int64_t H = q.size(1), D = q.size(-1);
    SPLATLM_CHECK(centres.dim() == 3 && centres.size(0) == H && centres.size(2) == D && centres.size(1) > 0, op,
                  ": centres must be [H, K, D] = [", H, ", K, ", D, "] with K > 0, got ", shape_str(centres.shape()));
    const Shape hk = {H, centres.size(1)};
    SPLATLM_CHECK(log_scale.shape() == hk && log_amp.shape() == hk, op, ": log_scale and log_amp must be ",
                  shape_str(hk), ", got ", shape_str(log_scale.shape()), " and ", shape_str(log_amp.shape()));
    for (const auto& [t, name] : {std::pair{&o.log_decay, "log_decay"}, std::pair{&o.read_bias, "read_bias"}})
        if (t->defined())
            SPLATLM_CHECK(t->shape() == hk, op, ": ", name, " must be ", shape_str(hk), ", got ",
                          shape_str(t->shape()));
    SPLATLM_CHECK(o.top >= 0 && o.top <= centres.size(1), op, ": top must be in [0, K = ", centres.size(1),
                  "] (0 = every splat), got ", o.top);
    Shape per_token = q.shape();  // [B, H, T, K] (rank 4) or [B, H, K] (rank 3, one position)
    per_token.back() = centres.size(1);
    for (const auto& [t, name] : {std::pair{&o.send_bias, "send_bias"}, std::pair{&o.token_decay, "token_decay"}})
        if (t->defined())
            SPLATLM_CHECK(t->shape() == per_token, op, ": ", name, " must be ", shape_str(per_token), ", got ",
                          shape_str(t->shape()));
    return device;
}

std::vector<Tensor> splat_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                 const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o) {
    std::vector<Tensor> in{q, k, v, centres, log_scale, log_amp};
    for (const Tensor* t : {&o.log_decay, &o.send_bias, &o.read_bias, &o.token_decay})
        if (t->defined()) in.push_back(*t);
    return in;
}

}  // namespace splatlm
