// contact_sheet.cpp — frames → one shrunk grid (stb_image decodes the PNGs) and, through ffmpeg
// when present, an MP4 (viz/contact_sheet.h).
#include "viz/contact_sheet.h"

#include <stb_image.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "tensor/error.h"
#include "viz/layout.h"

namespace splatlm::viz {

namespace {

std::string frame_name(const std::string& dir, int number) {
    char name[32];
    std::snprintf(name, sizeof name, "/%05d.png", number);
    return dir + name;
}

// The PNG at `path`, shrunk by `factor` (each output pixel the mean of a factor × factor block).
Canvas load_shrunk(const std::string& path, int factor) {
    int w = 0, h = 0, channels = 0;
    stbi_uc* pixels = stbi_load(path.c_str(), &w, &h, &channels, 4);
    SPLATLM_CHECK(pixels, "contact sheet: cannot read frame ", path);
    const int sw = std::max(1, w / factor), sh = std::max(1, h / factor);
    Canvas out(sw, sh);
    for (int y = 0; y < sh; ++y)
        for (int x = 0; x < sw; ++x) {
            int sum[4] = {0, 0, 0, 0}, n = 0;
            for (int dy = 0; dy < factor && y * factor + dy < h; ++dy)
                for (int dx = 0; dx < factor && x * factor + dx < w; ++dx, ++n)
                    for (int c = 0; c < 4; ++c) sum[c] += pixels[(size_t(y * factor + dy) * w + x * factor + dx) * 4 + c];
            out.fill_rect(x, y, 1, 1, Rgba{uint8_t(sum[0] / n), uint8_t(sum[1] / n), uint8_t(sum[2] / n), 255});
        }
    stbi_image_free(pixels);
    return out;
}

}  // namespace

std::vector<std::string> frame_files(const std::string& dir) {
    std::vector<std::string> frames;
    for (int n = 1; std::filesystem::exists(frame_name(dir, n)); ++n) frames.push_back(frame_name(dir, n));
    return frames;
}

Canvas contact_sheet(const std::vector<std::string>& frames, int columns, int max_width) {
    SPLATLM_CHECK(!frames.empty(), "contact sheet: no frames");
    SPLATLM_CHECK(columns >= 1 && max_width >= 64, "contact sheet: columns ", columns, ", max_width ", max_width);
    int w = 0, h = 0, channels = 0;
    SPLATLM_CHECK(stbi_info(frames[0].c_str(), &w, &h, &channels), "contact sheet: cannot read frame ", frames[0]);
    const int per_row = std::min<int>(columns, int(frames.size()));
    const int factor = std::max(1, (w * per_row + max_width - 1) / max_width);
    std::vector<Panel> panels;
    for (const std::string& f : frames) panels.push_back({"", load_shrunk(f, factor)});
    return compose_grid(panels, per_row);
}

bool write_frames_video(const std::string& dir, const std::string& mp4) {
    SPLATLM_CHECK(dir.find('\'') == std::string::npos && mp4.find('\'') == std::string::npos,
                  "frames video: a path with a quote: ", dir, " / ", mp4);
    if (std::system("command -v ffmpeg > /dev/null 2>&1") != 0) return false;
    const std::string command = "ffmpeg -y -loglevel error -framerate 4 -i '" + dir +
                                "/%05d.png' -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white' -pix_fmt yuv420p '" + mp4 + "'";
    SPLATLM_CHECK(std::system(command.c_str()) == 0, "frames video: ffmpeg failed: ", command);
    return true;
}

std::vector<std::string> assemble_frames(const std::string& frames_dir, const std::string& out_dir) {
    const std::vector<std::string> frames = frame_files(frames_dir);
    if (frames.empty()) return {};
    std::vector<std::string> written = {out_dir + "/splat_frames.png"};
    contact_sheet(frames).save_png(written[0]);
    if (write_frames_video(frames_dir, out_dir + "/splat_frames.mp4")) written.push_back(out_dir + "/splat_frames.mp4");
    return written;
}

}  // namespace splatlm::viz
