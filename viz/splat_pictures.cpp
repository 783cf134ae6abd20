#include "viz/splat_pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>

#include "tensor/error.h"
#include "viz/colormap.h"
#include "viz/font.h"
#include "viz/layout.h"
#include "viz/pca.h"
#include "viz/plot_heatmap.h"
#include "viz/style.h"

namespace splatlm::viz {

namespace {

constexpr int kFieldPx = 400;  // side of a splat-field plot area

std::span<const float> row(const std::vector<float>& m, int64_t r, int64_t dim) {
    return std::span<const float>(m).subspan(size_t(r * dim), size_t(dim));
}

double squared_distance(std::span<const float> a, std::span<const float> b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return s;
}

// log Σ exp over a vector; −inf for an empty or all −inf vector.
double log_sum_exp(const std::vector<double>& x) {
    const double m = *std::max_element(x.begin(), x.end());
    if (!std::isfinite(m)) return m;
    double s = 0;
    for (double v : x) s += std::exp(v - m);
    return m + std::log(s);
}

// In place: x ← softmax(x).
void softmax(std::vector<double>& x) {
    const double l = log_sum_exp(x);
    for (double& v : x) v = std::exp(v - l);
}

int columns_for(size_t panels) { return panels >= 4 ? 2 : int(panels); }

}  // namespace

FieldView fit_field_view(const SplatHead& head, const Plane* plane) {
    const int64_t T = head.tokens, D = head.dim, K = head.splats;
    SPLATLM_CHECK(T >= 1 && K >= 1 && D >= 2, "splat field: need tokens, splats and dimension >= 2");
    FieldView view;
    if (plane) {
        SPLATLM_CHECK(plane->dim == size_t(D), "splat field: a plane of dimension ", plane->dim, " for heads of ", D);
        view.plane = *plane;
        view.fixed_plane = true;
    } else {  // PCA of the keys and queries together, the cloud the splats work in
        std::vector<float> cloud(head.k);
        cloud.insert(cloud.end(), head.q.begin(), head.q.end());
        view.plane = principal_plane(cloud, size_t(2 * T), size_t(D));
    }
    double u = 0, v = 0;
    view.plane.project(row(head.k, 0, D), u, v);
    view.lo_u = view.hi_u = u, view.lo_v = view.hi_v = v;
    auto include = [&](std::span<const float> x) {
        view.plane.project(x, u, v);
        view.lo_u = std::min(view.lo_u, u), view.hi_u = std::max(view.hi_u, u);
        view.lo_v = std::min(view.lo_v, v), view.hi_v = std::max(view.hi_v, v);
    };
    for (int64_t t = 0; t < T; ++t) include(row(head.k, t, D)), include(row(head.q, t, D));
    for (int64_t j = 0; j < K; ++j) include(row(head.centres, j, D));
    return view;
}

void widen(FieldView& view, const FieldView& more) {
    view.lo_u = std::min(view.lo_u, more.lo_u), view.hi_u = std::max(view.hi_u, more.hi_u);
    view.lo_v = std::min(view.lo_v, more.lo_v), view.hi_v = std::max(view.hi_v, more.hi_v);
}

Canvas draw_splat_field_head(const SplatHead& head, const std::vector<std::string>& labels, const FieldView* fixed) {
    const int64_t T = head.tokens, D = head.dim, K = head.splats;
    const FieldView view = fixed ? *fixed : fit_field_view(head);
    SPLATLM_CHECK(T >= 1 && K >= 1 && view.plane.dim == size_t(D), "splat field: the view does not fit the head");
    const Plane& plane = view.plane;

    std::vector<double> ku(T), kv(T), qu(T), qv(T), cu(K), cv(K), off(K), c(K), la(K);
    for (int64_t t = 0; t < T; ++t) {
        plane.project(row(head.k, t, D), ku[t], kv[t]);
        plane.project(row(head.q, t, D), qu[t], qv[t]);
    }
    for (int64_t j = 0; j < K; ++j) {
        plane.project(row(head.centres, j, D), cu[j], cv[j]);
        off[j] = plane.off_plane_sq(row(head.centres, j, D));
        c[j] = 0.5 * std::exp(-2.0 * head.log_scale[j]);  // 1 / (2 s²)
        la[j] = head.log_amp[j];
    }
    // View: a square around the view's box, 8% margin; a single point gets a unit square.
    double span = std::max(view.hi_u - view.lo_u, view.hi_v - view.lo_v);
    if (!(span > 1e-9)) span = 1.0;
    span *= 1.16;
    const double mid_u = 0.5 * (view.lo_u + view.hi_u), mid_v = 0.5 * (view.lo_v + view.hi_v);
    const double px_per_unit = kFieldPx / span;
    auto to_x = [&](double u) { return kFieldPx * 0.5 + (u - mid_u) * px_per_unit; };
    auto to_y = [&](double v) { return kFieldPx * 0.5 - (v - mid_v) * px_per_unit; };  // v up

    // Mixture density, in logs so it never underflows to a blank field, scaled to its maximum.
    std::vector<double> field(size_t(kFieldPx) * kFieldPx), terms(K);
    double field_max = -std::numeric_limits<double>::infinity();
    for (int y = 0; y < kFieldPx; ++y)
        for (int x = 0; x < kFieldPx; ++x) {
            const double u = mid_u + (x + 0.5 - kFieldPx * 0.5) / px_per_unit;
            const double v = mid_v - (y + 0.5 - kFieldPx * 0.5) / px_per_unit;
            for (int64_t j = 0; j < K; ++j)
                terms[j] = la[j] - c[j] * ((u - cu[j]) * (u - cu[j]) + (v - cv[j]) * (v - cv[j]) + off[j]);
            field[size_t(y) * kFieldPx + x] = log_sum_exp(terms);
            field_max = std::max(field_max, field[size_t(y) * kFieldPx + x]);
        }

    Canvas canvas(kFieldPx, kFieldPx);  // the plot area alone, so scale circles stop at its edge
    for (int y = 0; y < kFieldPx; ++y)
        for (int x = 0; x < kFieldPx; ++x) {
            const double t = std::isfinite(field_max) ? std::exp(field[size_t(y) * kFieldPx + x] - field_max) : 0.0;
            canvas.fill_rect(x, y, 1, 1, map_color(Colormap::diverging, 0.5 - 0.45 * t));  // white → blue
        }

    // Splats: scale circle, cross, number. A number that would land on one already drawn is left
    // out (its cross stays), so a tight cluster of centres reads as crosses rather than a black smear.
    std::vector<std::pair<double, double>> numbered;
    for (int64_t j = 0; j < K; ++j) {
        const double x = to_x(cu[j]), y = to_y(cv[j]);
        canvas.stroke_circle(x, y, std::exp(double(head.log_scale[j])) * px_per_unit, 1.0, with_alpha(style::kAxis, 70));
        canvas.line(x - 5, y - 5, x + 5, y + 5, 2.0, kBlack);
        canvas.line(x - 5, y + 5, x + 5, y - 5, 2.0, kBlack);
        const bool crowded = std::any_of(numbered.begin(), numbered.end(), [&](const auto& p) {
            return std::abs(p.first - x) < 14 && std::abs(p.second - y) < kLineHeight;
        });
        if (crowded) continue;
        numbered.emplace_back(x, y);
        draw_text(canvas, int(x) + 6, int(y) - kGlyphHeight - 2, std::to_string(j), kBlack);
    }
    // Tokens: queries (rings) under keys (dots), coloured by position.
    auto position_colour = [&](int64_t t) { return map_color(Colormap::viridis, T > 1 ? 0.9 * t / double(T - 1) : 0.0); };
    for (int64_t t = 0; t < T; ++t) canvas.stroke_circle(to_x(qu[t]), to_y(qv[t]), 4.0, 1.5, position_colour(t));
    for (int64_t t = 0; t < T; ++t) {
        canvas.fill_circle(to_x(ku[t]), to_y(kv[t]), 3.5, position_colour(t));
        canvas.stroke_circle(to_x(ku[t]), to_y(kv[t]), 3.5, 0.8, kWhite);
    }
    if (T <= kMaxLabelledTokens && labels.size() == size_t(T))
        for (int64_t t = 0; t < T; ++t)
            draw_text(canvas, int(to_x(ku[t])) + 5, int(to_y(kv[t])) + 2, labels[t], style::kText);

    // Caption: how much of the keys' and queries' spread the plane shows, and the legend.
    double share = 0;
    {
        std::vector<double> u(size_t(2 * T)), v(size_t(2 * T)), mean(size_t(D), 0.0);
        for (int64_t t = 0; t < T; ++t) u[t] = ku[t], v[t] = kv[t], u[T + t] = qu[t], v[T + t] = qv[t];
        for (const auto* m : {&head.k, &head.q})
            for (int64_t i = 0; i < T * D; ++i) mean[size_t(i % D)] += (*m)[size_t(i)] / double(2 * T);
        double total = 0;
        for (const auto* m : {&head.k, &head.q})
            for (int64_t i = 0; i < T * D; ++i) total += ((*m)[size_t(i)] - mean[size_t(i % D)]) * ((*m)[size_t(i)] - mean[size_t(i % D)]);
        auto spread = [](const std::vector<double>& x) {
            double m = 0, s2 = 0;
            for (double a : x) m += a / double(x.size());
            for (double a : x) s2 += (a - m) * (a - m);
            return s2;
        };
        share = total > 0 ? 100.0 * std::min(1.0, (spread(u) + spread(v)) / total) : 0.0;
    }
    char caption[96];
    std::snprintf(caption, sizeof caption,
                  view.fixed_plane ? "plane fixed at the first frame: %.0f%% of keys+queries' variance"
                                   : "plane = PC1, PC2 of keys+queries: %.0f%% of their variance",
                  share);
    Canvas out(kFieldPx, kFieldPx + 3 * kLineHeight + style::kPad);
    out.draw_canvas(canvas, 0, 0);
    out.stroke_rect(0, 0, kFieldPx, kFieldPx, 1, style::kAxis);
    int y = kFieldPx + style::kPad / 2;
    draw_text(out, 2, y, caption, style::kText);
    draw_text(out, 2, y + kLineHeight, "dots = keys, rings = queries; dark = early, light = late", style::kText);
    draw_text(out, 2, y + 2 * kLineHeight, "x = splat centre, circle = its scale; blue = density", style::kText);
    return out;
}

Canvas draw_splat_field(const SplatSample& sample, const std::string& title, const std::vector<FieldView>* views) {
    SPLATLM_CHECK(!views || views->size() == sample.heads.size(), "splat field: ", views ? views->size() : 0,
                  " views for ", sample.heads.size(), " heads");
    std::vector<Panel> panels;
    for (size_t h = 0; h < sample.heads.size(); ++h)
        panels.push_back({"head " + std::to_string(h),
                          draw_splat_field_head(sample.heads[h], sample.labels, views ? &(*views)[h] : nullptr)});
    SPLATLM_CHECK(!panels.empty(), "splat field: the sample has no heads");
    return compose_grid(panels, columns_for(panels.size()), title);
}

Canvas draw_splat_affinities(const SplatSample& sample, const std::string& title) {
    std::vector<Panel> panels;
    for (size_t h = 0; h < sample.heads.size(); ++h) {
        const SplatHead& s = sample.heads[h];
        const int64_t T = std::min(s.tokens, kMaxHeatmapTokens), D = s.dim, K = s.splats;
        SPLATLM_CHECK(int64_t(s.read.size()) >= T * K, "splat affinities: head ", h, " has no read-out weights");
        std::vector<float> send(size_t(T * K)), receive(s.read.begin(), s.read.begin() + T * K);
        std::vector<double> lk(K);
        for (int64_t t = 0; t < T; ++t) {  // send: softmax over splats of the key affinities (no send bias)
            for (int64_t j = 0; j < K; ++j) {
                const double c = 0.5 * std::exp(-2.0 * s.log_scale[j]);
                lk[j] = s.log_amp[j] - c * squared_distance(row(s.k, t, D), row(s.centres, j, D));
            }
            softmax(lk);
            for (int64_t j = 0; j < K; ++j) send[t * K + j] = float(lk[j]);
        }
        HeatmapOptions o;
        o.x_label = "splat";
        o.y_label = "token";
        o.row_labels.assign(sample.labels.begin(), sample.labels.begin() + T);
        for (int64_t j = 0; j < K; ++j) o.col_labels.push_back(std::to_string(j));
        o.vmin = 0.0;
        o.vmax = 1.0;
        o.cell_px = int(std::clamp<int64_t>(480 / std::max(T, K), 6, 24));
        const std::string head = "head " + std::to_string(h);
        panels.push_back({head + ": send", plot_heatmap(send, size_t(T), size_t(K), o)});
        panels.push_back({head + ": receive", plot_heatmap(receive, size_t(T), size_t(K), o)});
    }
    SPLATLM_CHECK(!panels.empty(), "splat affinities: the sample has no heads");
    return compose_grid(panels, 4, title);
}

namespace {

// One heatmap of token-to-token weights (tokens × tokens, row-major), its first kMaxHeatmapTokens.
Canvas attention_heatmap(const std::vector<float>& weights, int64_t tokens, const std::vector<std::string>& labels) {
    const int64_t T = std::min(tokens, kMaxHeatmapTokens);
    std::vector<float> w(size_t(T * T));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = 0; u < T; ++u) w[t * T + u] = weights[size_t(t * tokens + u)];
    HeatmapOptions o;
    o.x_label = "key (attended token)";
    o.y_label = "query";
    o.row_labels.assign(labels.begin(), labels.begin() + T);
    o.col_labels = o.row_labels;
    o.lower_triangular = true;
    o.vmin = 0.0;
    // Row 0 is always a lone 1 (the first token sees only itself); scaling colours to the
    // largest weight of the later rows keeps their pattern visible (row 0 shows at the top colour).
    float later_max = 0.f;
    for (int64_t i = T; i < T * T; ++i) later_max = std::max(later_max, w[size_t(i)]);
    if (later_max > 0.f) o.vmax = later_max;
    return plot_heatmap(w, size_t(T), size_t(T), o);
}

}  // namespace

Canvas draw_effective_attention(const SplatSample& sample, const std::string& title) {
    std::vector<Panel> panels;
    for (size_t h = 0; h < sample.heads.size(); ++h)
        panels.push_back({"head " + std::to_string(h),
                          attention_heatmap(sample.heads[h].weights, sample.heads[h].tokens, sample.labels)});
    SPLATLM_CHECK(!panels.empty(), "effective attention: the sample has no heads");
    return compose_grid(panels, columns_for(panels.size()), title);
}

Canvas draw_attention_comparison(const SplatSample& splat, const AttentionSample& softmax, const std::string& title) {
    SPLATLM_CHECK(!splat.heads.empty() && !softmax.heads.empty(), "attention comparison: a sample has no heads");
    SPLATLM_CHECK(splat.labels == softmax.labels, "attention comparison: the two samples are not the same tokens");
    const int64_t tokens = splat.heads[0].tokens;
    std::vector<Panel> panels;
    for (size_t h = 0; h < std::max(splat.heads.size(), softmax.heads.size()); ++h) {
        const std::string head = "head " + std::to_string(h);
        panels.push_back(h < splat.heads.size()
                             ? Panel{"splat " + head + " (implied)", attention_heatmap(splat.heads[h].weights, tokens, splat.labels)}
                             : Panel{"splat " + head, text_block({"the splat model has no " + head})});
        panels.push_back(h < softmax.heads.size()
                             ? Panel{"softmax " + head, attention_heatmap(softmax.heads[h], tokens, softmax.labels)}
                             : Panel{"softmax " + head, text_block({"the softmax model has no " + head})});
    }
    return compose_grid(panels, 2, title);
}

}  // namespace splatlm::viz
