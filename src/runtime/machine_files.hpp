// What the probe shares with the tuning database: this machine's CPU identity and atomic cache writes.
#pragma once

#include <string>

namespace tessel::machine {

// The CPU's model name ("unknown" when the OS does not say) and the hardware threads this process may use.
std::string cpu_model_name();
int usable_core_count();
// Writes through a temporary file and a rename, creating the directory, so a concurrent reader never
// sees half a file. False when any step fails.
bool write_file_atomically(const std::string& path, const std::string& text);

}  // namespace tessel::machine
