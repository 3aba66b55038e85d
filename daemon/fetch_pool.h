// repwatch/daemon/fetch_pool.h - fetches run on worker threads, results come back to the
// main loop through a file descriptor.
//
//   FetchPool pool(4);                       // at most 4 fetches at once; threads start lazily
//   pool.submit({"google-downtown", gen, [=] { return fetch_and_score(...); }});
//   poll({pool.fd(), ...});                  // readable when a fetch has finished
//   for (auto& done : pool.take_done()) store_poll(...);   // on the main (database) thread
//
// Workers never touch the database; a job owns (shared_ptr) what it reads, so a config reload
// can swap connectors while an old fetch is still running. Jobs must not throw: an escaping
// exception is turned into a failed Fetched naming the source.
//
// The daemon's and not the pipeline's: which fetches run at once, on how many threads, how
// results reach the main loop (an eventfd in its poll()), under which config generation, and
// how shutdown gives up on a hung fetch (abandon() and std::_Exit) are the daemon's policy.
// The pipeline only promises that fetch_and_score() is safe to run on a worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"

namespace repwatch::daemon {

// A job's result: one poll fetched and scored by the pipeline (pipeline/pipeline.h).
using pipeline::Fetched;

class FetchPool {
 public:
  // Hands a job's Fetched to take_done() before the job has finished (at most once).
  using HandOver = std::function<void(Fetched&&)>;
  struct Job {
    std::string source_id;
    uint64_t generation = 0;  // which config the job was started under
    std::function<Fetched()> work;
  };
  // A job that hands its Fetched over early and goes on - a poll in parts hands over its first
  // part (with Fetched::more) and then produces the rest while the main loop stores them. If
  // it returns or throws without handing over, that is a failed fetch, as for Job::work.
  using Streaming = std::function<void(const HandOver&)>;
  struct Done {
    std::string source_id;
    uint64_t generation = 0;
    Fetched fetched;
    std::chrono::milliseconds took{};
  };

  explicit FetchPool(int max_threads);
  // Waits for running jobs to finish (queued ones are dropped) unless abandon() was called.
  ~FetchPool();
  FetchPool(const FetchPool&) = delete;
  FetchPool& operator=(const FetchPool&) = delete;

  void submit(Job job);
  // The same for a streaming job (job.work is not used).
  void submit(Job job, Streaming streaming);
  // An eventfd, readable while finished jobs wait in take_done().
  int fd() const;
  std::vector<Done> take_done();

  // Jobs submitted and not yet taken back with take_done() (queued, running or done).
  int outstanding() const;
  // Drops the queued jobs that have not started; returns their source ids.
  std::vector<std::string> cancel_queued();
  // For shutdown when a fetch hangs past the grace period: the worker threads are detached
  // and the destructor does not wait. The process must then end with std::_Exit.
  void abandon();
  int threads() const;

  struct State;  // shared with the worker threads

 private:
  std::shared_ptr<State> state_;
};

}  // namespace repwatch::daemon
