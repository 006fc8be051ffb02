// The version of widemax and the git commit it was built from (filled in at build time, so a run's
// provenance names the exact code). "unknown" when built outside a git checkout.
#pragma once

namespace widemax {

const char* version();
// Full 40-digit commit, with "-dirty" when the tree had uncommitted changes at build time.
const char* git_commit();

}  // namespace widemax
