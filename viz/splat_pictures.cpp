#include "viz/splat_pictures.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <span>

#include "splat/splat_attention.h"
#include "tensor/error.h"
#include "viz/colormap.h"
#include "viz/font.h"
#include "viz/layout.h"
#include "viz/pca.h"
#include "viz/plot_heatmap.h"
#include "viz/style.h"
#include "viz/ticks.h"

namespace splatlm::viz {

namespace {

constexpr int kFieldPx = 400;  // side of a splat-field plot area
constexpr Rgba kEventInk{230, 110, 0, 255};  // rings and words of splat events (frames)

std::span<const float> row(const std::vector<float>& m, int64_t r, int64_t dim) {
    return std::span<const float>(m).subspan(size_t(r * dim), size_t(dim));
}

// log Σ exp over a vector; −inf for an empty or all −inf vector.
double log_sum_exp(const std::vector<double>& x) {
    const double m = *std::max_element(x.begin(), x.end());
    if (!std::isfinite(m)) return m;
    double s = 0;
    for (double v : x) s += std::exp(v - m);
    return m + std::log(s);
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
    for (int64_t j = 0; j < K; ++j)
        if (is_live(head.log_amp[j])) include(row(head.centres, j, D));  // empty slots are not drawn
    return view;
}

void widen(FieldView& view, const FieldView& more) {
    view.lo_u = std::min(view.lo_u, more.lo_u), view.hi_u = std::max(view.hi_u, more.hi_u);
    view.lo_v = std::min(view.lo_v, more.lo_v), view.hi_v = std::max(view.hi_v, more.hi_v);
}

namespace {

// The share of a cloud's variance (rows of `points`, each `dim` long) that its projection onto
// `plane` keeps, in percent.
double variance_share(const Plane& plane, const std::vector<float>& points, int64_t dim) {
    const int64_t n = int64_t(points.size()) / dim;
    std::vector<double> mean(static_cast<size_t>(dim), 0.0), u(static_cast<size_t>(n)), v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n * dim; ++i) mean[size_t(i % dim)] += points[size_t(i)] / double(n);
    double total = 0;
    for (int64_t i = 0; i < n * dim; ++i) total += (points[size_t(i)] - mean[size_t(i % dim)]) * (points[size_t(i)] - mean[size_t(i % dim)]);
    for (int64_t i = 0; i < n; ++i) plane.project(row(points, i, dim), u[size_t(i)], v[size_t(i)]);
    auto spread = [](const std::vector<double>& x) {
        double m = 0, s2 = 0;
        for (double a : x) m += a / double(x.size());
        for (double a : x) s2 += (a - m) * (a - m);
        return s2;
    };
    return total > 0 ? 100.0 * std::min(1.0, (spread(u) + spread(v)) / total) : 0.0;
}

// Whether a text box [x, x+w) × [y, y+h) stays clear of every box already taken (then takes it).
bool claim_box(std::vector<std::array<int, 4>>& taken, int x, int y, int w, int h) {
    for (const auto& b : taken)
        if (x < b[0] + b[2] + 1 && b[0] < x + w + 1 && y < b[1] + b[3] && b[1] < y + h) return false;
    taken.push_back({x, y, w, h});
    return true;
}

// Plane-coordinate ticks along the bottom (u) and left (v) edges of the plot area at (x0, y0).
void draw_plane_ticks(Canvas& out, int x0, int y0, double lo_u, double hi_u, double lo_v, double hi_v) {
    const Axis u = linear_ticks_within(lo_u, hi_u, 5), v = linear_ticks_within(lo_v, hi_v, 5);
    for (size_t i = 0; i < u.ticks.size(); ++i) {
        const int x = x0 + int(std::lround((u.ticks[i] - lo_u) / (hi_u - lo_u) * kFieldPx));
        out.fill_rect(x, y0 + kFieldPx, 1, style::kTickLen, style::kAxis);
        draw_text(out, x - text_width(u.labels[i]) / 2, y0 + kFieldPx + style::kTickLen + 2, u.labels[i], style::kText);
    }
    for (size_t i = 0; i < v.ticks.size(); ++i) {
        const int y = y0 + kFieldPx - int(std::lround((v.ticks[i] - lo_v) / (hi_v - lo_v) * kFieldPx));
        out.fill_rect(x0 - style::kTickLen, y, style::kTickLen, 1, style::kAxis);
        draw_text(out, x0 - style::kTickLen - 2 - text_width(v.labels[i]), y - kCapHeight / 2, v.labels[i], style::kText);
    }
}

}  // namespace

FieldView fit_splat_view(const SplatHead& head) {
    const int64_t T = head.tokens, D = head.dim, K = head.splats;
    FieldView view;
    view.plane = principal_plane(head.centres, size_t(K), size_t(D));
    view.splat_plane = true;
    // The box holds the centres with their scales and the keys, not the queries: a query far from
    // every splat would shrink the splats to a dot (the caption counts the queries left outside).
    double u = 0, v = 0;
    view.plane.project(row(head.k, 0, D), u, v);  // (a key: slot 0 may be empty)
    view.lo_u = view.hi_u = u, view.lo_v = view.hi_v = v;
    auto include = [&](std::span<const float> x, double margin) {
        view.plane.project(x, u, v);
        view.lo_u = std::min(view.lo_u, u - margin), view.hi_u = std::max(view.hi_u, u + margin);
        view.lo_v = std::min(view.lo_v, v - margin), view.hi_v = std::max(view.hi_v, v + margin);
    };
    for (int64_t j = 0; j < K; ++j)
        if (is_live(head.log_amp[j])) include(row(head.centres, j, D), std::exp(double(head.log_scale[j])));
    for (int64_t t = 0; t < T; ++t) include(row(head.k, t, D), 0.0);
    return view;
}

Canvas draw_splat_field_head(const SplatHead& head, const std::vector<std::string>& labels, const FieldView* given,
                             const std::vector<FieldMark>& marks) {
    const int64_t T = head.tokens, D = head.dim, K = head.splats;
    const FieldView view = given ? *given : fit_field_view(head);
    SPLATLM_CHECK(T >= 1 && K >= 1 && view.plane.dim == size_t(D), "splat field: the view does not fit the head");
    for (const FieldMark& m : marks)
        SPLATLM_CHECK(m.splat >= 0 && m.splat < K, "splat field: a mark on splat ", m.splat, " of ", K);
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

    // The splats' write density on the plane (the function exp lk summed over splats, evaluated at
    // plane points: no token sits there, so there is no send gate to apply), in logs so it never
    // underflows, scaled to its maximum.
    std::vector<double> field(size_t(kFieldPx) * kFieldPx), terms(K);
    double field_max = -std::numeric_limits<double>::infinity(), field_min = -field_max;
    for (int y = 0; y < kFieldPx; ++y)
        for (int x = 0; x < kFieldPx; ++x) {
            const double u = mid_u + (x + 0.5 - kFieldPx * 0.5) / px_per_unit;
            const double v = mid_v - (y + 0.5 - kFieldPx * 0.5) / px_per_unit;
            for (int64_t j = 0; j < K; ++j)
                terms[j] = la[j] - c[j] * ((u - cu[j]) * (u - cu[j]) + (v - cv[j]) * (v - cv[j]) + off[j]);
            double& f = field[size_t(y) * kFieldPx + x];
            f = log_sum_exp(terms);
            field_max = std::max(field_max, f), field_min = std::min(field_min, f);
        }
    // Drawn only where it varies: a field within a factor 2 of its maximum everywhere says nothing;
    // and only above an eighth of its maximum.
    const bool density_varies = std::isfinite(field_max) && field_max - field_min > std::log(2.0);
    Canvas canvas(kFieldPx, kFieldPx);  // the plot area alone, so scale circles stop at its edge
    if (density_varies)
        for (int y = 0; y < kFieldPx; ++y)
            for (int x = 0; x < kFieldPx; ++x) {
                // Eight bands (each an eighth of the maximum), so equal colours read as contours.
                const double t = std::ceil(8.0 * std::exp(field[size_t(y) * kFieldPx + x] - field_max)) / 8.0;
                if (t > 0.125) canvas.fill_rect(x, y, 1, 1, map_color(Colormap::diverging, 0.5 - 0.45 * t));  // white → blue
            }

    // Which token writes the largest share into each splat (head.send): a line to that key.
    std::vector<int64_t> top_token(K, -1);
    if (int64_t(head.send.size()) == T * K)
        for (int64_t j = 0; j < K; ++j)
            for (int64_t t = 0; t < T; ++t)
                if (top_token[j] < 0 || head.send[t * K + j] > head.send[top_token[j] * K + j]) top_token[j] = t;
    for (int64_t j = 0; j < K; ++j)
        if (top_token[j] >= 0 && is_live(head.log_amp[j]))
            canvas.line(to_x(cu[j]), to_y(cv[j]), to_x(ku[top_token[j]]), to_y(kv[top_token[j]]), 1.0,
                        with_alpha(style::kNote, 110));
    // Splats: extent circle (radius s: an isotropic Gaussian's 1-s.d. circle in any plane), cross.
    for (int64_t j = 0; j < K; ++j) {
        if (!is_live(head.log_amp[j])) continue;
        const double x = to_x(cu[j]), y = to_y(cv[j]);
        canvas.stroke_circle(x, y, std::exp(double(head.log_scale[j])) * px_per_unit, 1.0, with_alpha(style::kAxis, 140));
        canvas.line(x - 5, y - 5, x + 5, y + 5, 2.0, kBlack);
        canvas.line(x - 5, y + 5, x + 5, y - 5, 2.0, kBlack);
    }
    // Tokens: queries (rings) under keys (dots), coloured by position.
    auto position_colour = [&](int64_t t) { return map_color(Colormap::viridis, T > 1 ? 0.9 * t / double(T - 1) : 0.0); };
    for (int64_t t = 0; t < T; ++t) canvas.stroke_circle(to_x(qu[t]), to_y(qv[t]), 4.0, 1.5, position_colour(t));
    for (int64_t t = 0; t < T; ++t) {
        canvas.fill_circle(to_x(ku[t]), to_y(kv[t]), 3.5, position_colour(t));
        canvas.stroke_circle(to_x(ku[t]), to_y(kv[t]), 3.5, 0.8, kWhite);
    }
    // Events since the last frame: a ring and its word, drawn before any other text so it always shows.
    std::vector<std::array<int, 4>> taken;
    for (const FieldMark& m : marks) {
        const double x = to_x(cu[m.splat]), y = to_y(cv[m.splat]);
        canvas.stroke_circle(x, y, 9.0, 2.0, kEventInk);
        const int wx = int(x) - text_width(m.word) / 2, wy = int(y) + 11;
        if (claim_box(taken, wx, wy, text_width(m.word), kGlyphHeight)) draw_text(canvas, wx, wy, m.word, kEventInk);
    }
    // Then splat names: "j" or "j:c" (c = the token it attracts most), then key characters, each
    // drawn only where it overlaps no text already drawn.
    for (int64_t j = 0; j < K; ++j) {
        if (!is_live(head.log_amp[j])) continue;
        std::string name = std::to_string(j);
        if (top_token[j] >= 0 && labels.size() == size_t(T)) name += ":" + labels[size_t(top_token[j])];
        const int x = int(to_x(cu[j])) + 6, y = int(to_y(cv[j])) - kGlyphHeight - 2;
        if (claim_box(taken, x, y, text_width(name), kGlyphHeight)) draw_text(canvas, x, y, name, kBlack);
    }
    if (T <= kMaxLabelledTokens && labels.size() == size_t(T))
        for (int64_t t = 0; t < T; ++t) {
            const int x = int(to_x(ku[t])) + 5, y = int(to_y(kv[t])) + 2;
            if (claim_box(taken, x, y, text_width(labels[t]), kGlyphHeight)) draw_text(canvas, x, y, labels[t], style::kText);
        }

    std::vector<float> tokens(head.k);
    tokens.insert(tokens.end(), head.q.begin(), head.q.end());
    char plane_line[96];
    std::vector<std::string> caption;
    if (view.splat_plane) {
        int64_t outside = 0;
        for (int64_t t = 0; t < T; ++t) {
            const double x = to_x(qu[t]), y = to_y(qv[t]);
            outside += x < 0 || y < 0 || x >= kFieldPx || y >= kFieldPx;
        }
        std::snprintf(plane_line, sizeof plane_line, "plane = PC1, PC2 of the splat centres: %.0f%% of their variance",
                      variance_share(plane, head.centres, D));
        caption = {plane_line, std::to_string(outside) + " of " + std::to_string(T) +
                                   " queries lie outside this view (far from the splats)"};
    } else {
        std::snprintf(plane_line, sizeof plane_line,
                      view.fixed_plane ? "plane fixed at the first frame: %.0f%% of keys+queries' variance"
                                       : "plane = PC1, PC2 of keys+queries: %.0f%% of their variance",
                      variance_share(plane, tokens, D));
        caption = {plane_line};
    }
    caption.push_back("dots = keys, rings = queries; dark = early, light = late");
    caption.push_back("x = splat centre, circle = its scale s; red line: to the key");
    caption.push_back(density_varies ? "writing most into it (j:char); blue = write density"
                                     : "writing most into it (j:char); write density flat: not drawn");
    if (!marks.empty()) caption.push_back("orange ring + word: an event since the last frame");
    constexpr int kLeft = 40, kBottom = 18;  // room for the plane-coordinate ticks
    const int lines = std::max(5, int(caption.size()));  // frames (4 lines, 5 with events) keep one size
    Canvas out(kLeft + kFieldPx + style::kPad, kFieldPx + kBottom + lines * kLineHeight + style::kPad);
    out.draw_canvas(canvas, kLeft, 0);
    out.stroke_rect(kLeft, 0, kFieldPx, kFieldPx, 1, style::kAxis);
    draw_plane_ticks(out, kLeft, 0, mid_u - span / 2, mid_u + span / 2, mid_v - span / 2, mid_v + span / 2);
    for (size_t i = 0; i < caption.size(); ++i)
        draw_text(out, 2, kFieldPx + kBottom + style::kPad / 2 + int(i) * kLineHeight, caption[i], style::kText);
    return out;
}

Canvas draw_splat_field(const SplatSample& sample, const std::string& title, const std::vector<FieldView>* views,
                        const std::vector<FieldMark>& marks) {
    SPLATLM_CHECK(!views || views->size() == sample.heads.size(), "splat field: ", views ? views->size() : 0,
                  " views for ", sample.heads.size(), " heads");
    std::vector<Panel> panels;
    // A run's frames keep one plane per head; a picture of its own shows two planes per head: where
    // the tokens spread, and where the splats separate (when there are enough splats to separate).
    const bool two_planes = !views && !sample.heads.empty() && sample.heads[0].splats >= 3;
    for (size_t h = 0; h < sample.heads.size(); ++h) {
        const std::string head = "head " + std::to_string(h);
        std::vector<FieldMark> head_marks;
        for (const FieldMark& m : marks)
            if (m.head == int64_t(h)) head_marks.push_back(m);
        panels.push_back({two_planes ? head + ": tokens' plane" : head,
                          draw_splat_field_head(sample.heads[h], sample.labels, views ? &(*views)[h] : nullptr, head_marks)});
        if (two_planes) {
            const FieldView splat_view = fit_splat_view(sample.heads[h]);
            panels.push_back({head + ": splats' plane", draw_splat_field_head(sample.heads[h], sample.labels, &splat_view)});
        }
    }
    SPLATLM_CHECK(!panels.empty(), "splat field: the sample has no heads");
    const Canvas grid = compose_grid(panels, two_planes ? 2 : columns_for(panels.size()), title);
    return with_caption(grid, {"Each panel is a 2-D slice of a head's D-dimensional key/query space. A token writes into the",
                               "splats whose centres are near its key and reads the splats near its query; where the queries",
                               "sit far from every centre, the splats' scales decide how much each token still reads."});
}

Canvas draw_splat_affinities(const SplatSample& sample, const std::string& title) {
    std::vector<Panel> panels;
    for (size_t h = 0; h < sample.heads.size(); ++h) {
        const SplatHead& s = sample.heads[h];
        const int64_t T = std::min(s.tokens, kMaxHeatmapTokens), K = s.splats;
        SPLATLM_CHECK(int64_t(s.read.size()) >= T * K && int64_t(s.send.size()) >= T * K, "splat affinities: head ",
                      h, " has no write shares or read-out weights");
        const std::vector<float> send(s.send.begin(), s.send.begin() + T * K), receive(s.read.begin(), s.read.begin() + T * K);
        HeatmapOptions o;
        o.x_label = "splat";
        o.y_label = "token";
        o.row_labels.assign(sample.labels.begin(), sample.labels.begin() + T);
        for (int64_t j = 0; j < K; ++j) o.col_labels.push_back(std::to_string(j));
        o.vmin = 0.0;
        o.top_percentile = 99;
        const std::string head = "head " + std::to_string(h);
        panels.push_back({head + ": send", plot_heatmap(send, size_t(T), size_t(K), o)});
        panels.push_back({head + ": receive", plot_heatmap(receive, size_t(T), size_t(K), o)});
    }
    SPLATLM_CHECK(!panels.empty(), "splat affinities: the sample has no heads");
    const SplatHead& first = sample.heads[0];
    std::vector<std::string> caption = {
        "send: the share of token t's write that goes into splat j (rows sum to 1)" +
            std::string(first.gated ? ", scaled by its send gate" : "") + ".",
        "receive: the weight pi_tj token t reads splat j with (rows sum to 1), as the model computes it" +
            std::string(first.log_decay.empty() ? "" : " (decay applied)") + ".",
        "Colours stop at the 99th percentile (bar: top: p99), so shares near 1/K still show."};
    if (first.top > 0)
        caption.push_back("Routing: each token writes to and reads from only its top " + std::to_string(first.top) +
                          " of " + std::to_string(first.splats) + " splats; the rest are exactly 0.");
    return with_caption(compose_grid(panels, 4, title), caption);
}

Canvas draw_routing(const SplatSample& sample, const std::string& title) {
    SPLATLM_CHECK(!sample.heads.empty(), "routing: the sample has no heads");
    const int64_t H = int64_t(sample.heads.size()), K = sample.heads[0].splats, T = sample.heads[0].tokens;
    std::vector<float> share(size_t(2 * H * K), 0.f);  // rows: head h writes, head h reads
    std::vector<std::string> rows;
    for (int64_t h = 0; h < H; ++h) {
        const SplatHead& s = sample.heads[size_t(h)];
        SPLATLM_CHECK(s.splats == K && int64_t(s.send.size()) == T * K && int64_t(s.read.size()) == T * K,
                      "routing: head ", h, " has no write shares or read-out weights");
        for (int64_t t = 0; t < T; ++t)
            for (int64_t j = 0; j < K; ++j) {
                share[size_t((2 * h) * K + j)] += s.send[t * K + j] > 0 ? 1.f / float(T) : 0.f;
                share[size_t((2 * h + 1) * K + j)] += s.read[t * K + j] > 0 ? 1.f / float(T) : 0.f;
            }
        rows.push_back("h" + std::to_string(h) + " writes");
        rows.push_back("h" + std::to_string(h) + " reads");
    }
    HeatmapOptions o;
    o.x_label = "splat";
    o.row_labels = rows;
    for (int64_t j = 0; j < K; ++j) o.col_labels.push_back(std::to_string(j));
    o.vmin = 0.0, o.vmax = 1.0;
    o.cell_px = 24;
    const int64_t top = sample.heads[0].top;
    return with_caption(compose_grid({{"share of tokens routed to each splat", plot_heatmap(share, size_t(2 * H), size_t(K), o)}}, 1, title),
                        {"Top-p routing: each token writes to its top " + std::to_string(top) + " of " + std::to_string(K) +
                             " splats by key affinity and reads from its top " + std::to_string(top) + " by query affinity.",
                         "A cell is the share of the sample's tokens that picked that splat; a dark column is a splat",
                         "this text never uses, a bright one a splat nearly every token shares (each row sums to " +
                             std::to_string(top) + ")."});
}

namespace {

// The first kMaxHeatmapTokens rows and columns of a tokens × tokens matrix.
std::vector<float> heatmap_prefix(const std::vector<float>& weights, int64_t tokens) {
    const int64_t T = std::min(tokens, kMaxHeatmapTokens);
    std::vector<float> w(size_t(T * T));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = 0; u < T; ++u) w[t * T + u] = weights[size_t(t * tokens + u)];
    return w;
}

// The top of the colour scale for token-to-token weights: their 99th percentile below row 0 (whose
// lone w[0,0] = 1 would flatten the rest), over every matrix given.
double attention_top(const std::vector<const std::vector<float>*>& matrices, int64_t T) {
    std::vector<double> later;
    for (const auto* w : matrices)
        for (int64_t t = 1; t < T; ++t) later.insert(later.end(), w->begin() + t * T, w->begin() + t * T + t + 1);
    const double top = percentile(std::move(later), 99, 1.0);
    return top > 0 ? top : 1.0;
}

// One heatmap of token-to-token weights (a kMaxHeatmapTokens prefix), log colours over 3 decades below `top`.
Canvas attention_heatmap(const std::vector<float>& w, int64_t T, const std::vector<std::string>& labels, double top) {
    HeatmapOptions o;
    o.x_label = "key (attended token)";
    o.y_label = "query";
    o.row_labels.assign(labels.begin(), labels.begin() + T);
    o.col_labels = o.row_labels;
    o.lower_triangular = true;
    o.log_colors = true;
    o.vmax = top;
    return plot_heatmap(w, size_t(T), size_t(T), o);
}

const std::vector<std::string> kAttentionCaption = {
    "Row t = a query token, column u = a token it attends to (hatched: the future, never seen).",
    "Colour = weight w[t,u] on a log scale over 3 decades; the top is the 99th percentile of the",
    "weights after row 0 (the first token sees only itself). Each row sums to at most 1."};

}  // namespace

Canvas draw_effective_attention(const SplatSample& sample, const std::string& title) {
    std::vector<Panel> panels;
    for (size_t h = 0; h < sample.heads.size(); ++h) {
        const int64_t T = std::min(sample.heads[h].tokens, kMaxHeatmapTokens);
        const std::vector<float> w = heatmap_prefix(sample.heads[h].weights, sample.heads[h].tokens);
        panels.push_back({"head " + std::to_string(h), attention_heatmap(w, T, sample.labels, attention_top({&w}, T))});
    }
    SPLATLM_CHECK(!panels.empty(), "effective attention: the sample has no heads");
    std::vector<std::string> caption = kAttentionCaption;
    caption.push_back("These are the weights the splats imply, every option of the layer applied: output y_t = sum_u w[t,u] v_u.");
    return with_caption(compose_grid(panels, columns_for(panels.size()), title), caption);
}

Canvas draw_attention_comparison(const SplatSample& splat, const AttentionSample& softmax, const std::string& title) {
    SPLATLM_CHECK(!splat.heads.empty() && !softmax.heads.empty(), "attention comparison: a sample has no heads");
    SPLATLM_CHECK(splat.labels == softmax.labels, "attention comparison: the two samples are not the same tokens");
    const int64_t tokens = splat.heads[0].tokens, T = std::min(tokens, kMaxHeatmapTokens);
    std::vector<Panel> panels;
    for (size_t h = 0; h < std::max(splat.heads.size(), softmax.heads.size()); ++h) {
        const std::string head = "head " + std::to_string(h);
        std::vector<float> left, right;
        if (h < splat.heads.size()) left = heatmap_prefix(splat.heads[h].weights, tokens);
        if (h < softmax.heads.size()) right = heatmap_prefix(softmax.heads[h], tokens);
        std::vector<const std::vector<float>*> both;  // one colour scale for the pair
        for (const auto* w : {&left, &right})
            if (!w->empty()) both.push_back(w);
        const double top = attention_top(both, T);
        panels.push_back(!left.empty() ? Panel{"splat " + head + " (implied)", attention_heatmap(left, T, splat.labels, top)}
                                       : Panel{"splat " + head, text_block({"the splat model has no " + head})});
        panels.push_back(!right.empty() ? Panel{"softmax " + head, attention_heatmap(right, T, softmax.labels, top)}
                                        : Panel{"softmax " + head, text_block({"the softmax model has no " + head})});
    }
    std::vector<std::string> caption = kAttentionCaption;
    caption.push_back("Left: what the splat model's tokens attend to (through K splats, rank <= K); right: a softmax");
    caption.push_back("model's real attention on the same tokens. Each pair shares one colour scale.");
    return with_caption(compose_grid(panels, 2, title), caption);
}

}  // namespace splatlm::viz
