// fuzz_facebook: the Facebook Page ratings connector on hostile API answers (see
// fuzz/connector_target.h). paging.next links may point back at the server ("@HOST@") or away.
#include "fuzz/connector_target.h"

REPWATCH_FUZZ_TARGET(facebook) {
  if (size == 0) return 0;
  std::string source =
      "type = \"facebook\"\npage_id = \"123456789012345\"\naccess_token_file = \"@DIR@/token\"\n"
      "base_url = \"@BASE@\"\napi_version = \"v21.0\"\nmax_pages = 4\npage_size = 25\n";
  if (data[0] & 1) source += "full_sweep_interval = \"0s\"\n";
  return repwatch::fuzz::run_connector(source, as_text(data + 1, size - 1), 4);
}
