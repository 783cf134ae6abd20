#include "viz/splat_inspect.h"

#include <cmath>
#include <limits>

#include "autograd/graph.h"
#include "nn/softmax_attention.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"

namespace splatlm::viz {

std::string token_label(const std::string& text) {
    std::string out;
    for (char c : text) out += c == ' ' ? '_' : c == '\n' ? '\\' : (unsigned char)c < 32 ? '?' : c;
    return out;
}

namespace {

void check_request(const GPTConfig& c, const std::vector<int32_t>& ids, const std::vector<std::string>& labels,
                   int64_t layer) {
    const int64_t T = int64_t(ids.size());
    SPLATLM_CHECK(T >= 1, "splat pictures: the text sample is empty");
    SPLATLM_CHECK(T <= c.context, "splat pictures: ", T, " tokens exceed the context length ", c.context);
    SPLATLM_CHECK(labels.size() == ids.size(), "splat pictures: ", labels.size(), " labels for ", T, " tokens");
    SPLATLM_CHECK(layer >= 0 && layer < c.layers, "splat pictures: layer ", layer, " is out of range (the model has ",
                  c.layers, " layers, 0..", c.layers - 1, ")");
}

}  // namespace

SplatSample inspect_splats(GPT& model, const std::vector<int32_t>& ids, std::vector<std::string> labels,
                           int64_t layer) {
    const GPTConfig& c = model.config();
    const int64_t T = int64_t(ids.size());
    check_request(c, ids, labels, layer);
    auto* attn = dynamic_cast<SplatAttention*>(&model.block(layer).attention());
    SPLATLM_CHECK(attn, "splat pictures need a model trained with attention=splat or splat_local; this one uses "
                  "attention=", c.attention);

    NoGradGuard no_grad;
    const Tensor x = model.attention_input(Indices{{1, T}, ids}, layer);
    const QKV h = attn->head_views(x);
    const SplatOptions options = attn->options(x);  // decay, gates and level weights shape the weights too

    SplatSample sample;
    sample.layer = layer;
    sample.labels = std::move(labels);
    const int64_t K = attn->splats(), D = c.head_dim();
    const Tensor read = splat_read_weights(h.q, h.k, attn->centres, attn->log_scale, attn->log_amp, options);
    const Tensor y = splat_attention(h.q, h.k, h.v, attn->centres, attn->log_scale, attn->log_amp, options);
    for (int64_t head = 0; head < c.heads; ++head) {
        SplatHead s;
        s.tokens = T, s.dim = D, s.splats = K;
        s.q = select(select(h.q, 0, 0), 0, head).to_vector();
        s.k = select(select(h.k, 0, 0), 0, head).to_vector();
        s.v = select(select(h.v, 0, 0), 0, head).to_vector();
        s.y = select(select(y, 0, 0), 0, head).to_vector();
        s.centres = select(attn->centres, 0, head).to_vector();
        s.log_scale = select(attn->log_scale, 0, head).to_vector();
        s.log_amp = select(attn->log_amp, 0, head).to_vector();
        s.weights =
            splat_weights_reference(h.q, h.k, attn->centres, attn->log_scale, attn->log_amp, 0, head, options)
                .to_vector();
        s.send = splat_write_shares_reference(h.q, h.k, attn->centres, attn->log_scale, attn->log_amp, 0, head,
                                              options).to_vector();
        s.read = select(select(read, 0, 0), 0, head).to_vector();
        if (attn->log_decay) s.log_decay = select(*attn->log_decay, 0, head).to_vector();  // (the constant rates)
        s.top = options.top;
        s.gated = options.send_bias.defined();
        sample.heads.push_back(std::move(s));
    }
    return sample;
}

AttentionSample inspect_softmax(GPT& model, const std::vector<int32_t>& ids, std::vector<std::string> labels,
                                int64_t layer) {
    const GPTConfig& c = model.config();
    check_request(c, ids, labels, layer);
    auto* attn = dynamic_cast<SoftmaxAttention*>(&model.block(layer).attention());
    SPLATLM_CHECK(attn && c.attention == "softmax", "attention comparison needs a model trained with attention=softmax;"
                  " this one uses attention=", c.attention);
    NoGradGuard no_grad;
    const int64_t T = int64_t(ids.size()), D = c.head_dim();
    const QKV h = attn->head_views(model.attention_input(Indices{{1, T}, ids}, layer));
    AttentionSample sample{.layer = layer, .tokens = T, .labels = std::move(labels), .heads = {}};
    const double scale = 1.0 / std::sqrt(double(D));
    for (int64_t head = 0; head < c.heads; ++head) {
        const std::vector<float> q = select(select(h.q, 0, 0), 0, head).to_vector();
        const std::vector<float> k = select(select(h.k, 0, 0), 0, head).to_vector();
        std::vector<float> w(size_t(T * T), 0.f);
        std::vector<double> score(static_cast<size_t>(T));
        for (int64_t t = 0; t < T; ++t) {
            double m = -std::numeric_limits<double>::infinity(), sum = 0;
            for (int64_t u = 0; u <= t; ++u) {
                double dot = 0;
                for (int64_t d = 0; d < D; ++d) dot += double(q[size_t(t * D + d)]) * k[size_t(u * D + d)];
                m = std::max(m, score[size_t(u)] = dot * scale);
            }
            for (int64_t u = 0; u <= t; ++u) sum += (score[size_t(u)] = std::exp(score[size_t(u)] - m));
            for (int64_t u = 0; u <= t; ++u) w[size_t(t * T + u)] = float(score[size_t(u)] / sum);
        }
        sample.heads.push_back(std::move(w));
    }
    return sample;
}

}  // namespace splatlm::viz
