// contact_sheet.h — the frames of a training run (`train --viz-every N`, viz/splat_files.h) put
// together so the splats' motion can be seen without tools: one contact-sheet PNG of every frame,
// shrunk, in reading order; and, when `ffmpeg` is on the PATH, an MP4 of them. Tests:
// `./bin/tests "[viz]"`.
#pragma once
#include <string>
#include <vector>

#include "viz/canvas.h"

namespace splatlm::viz {

// The numbered frames 00001.png, 00002.png, … in `dir`, in order (stops at the first gap).
std::vector<std::string> frame_files(const std::string& dir);

// Every frame, shrunk by a whole factor (box filter) so the sheet is about `max_width` pixels
// wide, `columns` to a row. Throws splatlm::Error when there is no frame or one cannot be read.
Canvas contact_sheet(const std::vector<std::string>& frames, int columns = 4, int max_width = 1600);

// Runs ffmpeg on dir/%05d.png (4 frames a second) into `mp4`. Returns false, doing nothing, when
// ffmpeg is not installed; throws splatlm::Error when it is and fails, or a path holds a quote.
bool write_frames_video(const std::string& dir, const std::string& mp4);

// The end of a run with frames: frames_dir's frames as out_dir/splat_frames.png and, with ffmpeg,
// out_dir/splat_frames.mp4. Returns the paths written (the sheet first); none when there are no frames.
std::vector<std::string> assemble_frames(const std::string& frames_dir, const std::string& out_dir);

}  // namespace splatlm::viz
