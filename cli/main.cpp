// repwatch: the managers' command line. Everything is in cli/app.cpp and cli/commands.h.
#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return repwatch::cli::run_cli(argc, argv, std::cout, std::cerr,
                                repwatch::cli::Environment::from_process());
}
