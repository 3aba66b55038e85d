// fuzz_json_http: the generic JSON API connector on hostile answers (see
// fuzz/connector_target.h), in three configurations: page-numbered URLs with a bearer token,
// next-page links/tokens with the key in a query parameter and millisecond timestamps, and
// legacy Place Details (a status word, HTML entities).
#include "fuzz/connector_target.h"

REPWATCH_FUZZ_TARGET(json_http) {
  if (size == 0) return 0;
  std::string source;
  if (data[0] % 3 == 2) {
    // Google's legacy Place Details: a status word with HTTP 200, HTML entities in texts.
    source =
        "type = \"json_http\"\nurl = \"@BASE@/maps/api/place/details/json?place_id=P1\"\n"
        "token_file = \"@DIR@/token\"\ntoken_param = \"key\"\nreviews_pointer = "
        "\"/result/reviews\"\nstatus_pointer = \"/status\"\ndecode_html_entities = true\n"
        "scale = \"1-5\"\n"
        "[sources.fields]\nexternal_id = \"/author_url\"\ncreated_at = \"/time\"\n"
        "rating = \"/rating\"\ntext = \"/text\"\nauthor = \"/author_name\"\n";
  } else if (data[0] & 1) {
    source =
        "type = \"json_http\"\nurl = \"@BASE@/v2/reviews?location=123\"\n"
        "token_file = \"@DIR@/token\"\ntoken_param = \"key\"\nreviews_pointer = \"\"\n"
        "next_pointer = \"/next\"\nnext_param = \"cursor\"\nmax_pages = 4\n"
        "since_param = \"since\"\nsince_format = \"epoch_ms\"\nscale = \"0-10\"\n"
        "time_unit = \"ms\"\n"
        "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/ts\"\nrating = \"/score\"\n"
        "text = \"/comment\"\n";
  } else {
    source =
        "type = \"json_http\"\nurl = \"@BASE@/reviews?page={page}\"\n"
        "token_file = \"@DIR@/token\"\nreviews_pointer = \"/data/reviews\"\nfirst_page = 1\n"
        "max_pages = 4\nscale = \"1-5\"\nheaders = { Accept = \"application/json\" }\n"
        "[sources.fields]\nexternal_id = \"/id\"\ncreated_at = \"/created\"\nrating = \"/stars\"\n"
        "text = \"/body\"\nauthor = \"/author/name\"\nupdated_at = \"/updated\"\n"
        "language = \"/lang\"\nreply_text = \"/reply/text\"\nreply_at = \"/reply/at\"\n"
        "url = \"/link\"\ntranslated_text = \"/translation\"\n";
  }
  return repwatch::fuzz::run_connector(source, as_text(data + 1, size - 1), 4);
}
