// The load side of the steps beside the forward (load_steps.cu); a mixed run (mix_steps.cu)
// runs one beside a SaveSteps.
#pragma once
#include <deque>
#include <memory>
#include <vector>

#include "step_loop.h"

namespace kv {

class LoadSteps : public DirectionSteps {
 public:
  // Loads from and into jobs of `span`: request q reads job span.job(q)'s extents into the GPU
  // blocks of job span.job(q + half).
  LoadSteps(Rig& rig, Design design, Strategy s, JobSpan span, double requestsPerStep, int loadBlocks, uint64_t gen, int steps);
  void beforeLaunches(StepHooks& h) override;
  void layer(int l, StepHooks& h) override;
  // What the engine calls before layer l's launch (blocking: wait_for_layer_load); layer() is this and the launch.
  void beforeLayer(int l, StepHooks& h);
  void afterLaunches(StepHooks& h) override;
  void finish() override;
  void verify() override;

 private:
  // Async: the loads started in one hook go into one batch, handed over with one push; a
  // batch's memory is reused once the connector took the batches after it.
  static constexpr int kLoadRing = 8;

  const JobSpan span;
  const double requestsPerStep, reqBytes;
  const int loadBlocks, half, jobsPerRequest, inflightCap;
  const uint64_t gen;
  std::unique_ptr<Stream> loadMain, loadAux;
  std::unique_ptr<Copier> copier;
  std::vector<Event> layerLoaded;     // blocking: each layer's loads done
  std::vector<double> arrival;        // by request
  std::deque<int> waiting;            // hit, load not started (async backpressure)
  std::vector<char> loaded;           // destinations written at least once
  std::vector<int> arrivals, hits;    // this step's
  int inflight = 0, nextRequest = 0;
  int stepNow = 0;  // the step whose hooks run: a load's copies belong to it (--trace)
  double acc = 0;
  // With a store: how many layer records of request q are still being read, and whether one failed.
  std::vector<int> getsLeft;
  std::vector<char> getFailed;
  std::vector<std::vector<ConnectorTask>> loadBatches;
  long long loadBatchesSubmitted = 0;
  int loadBatch = 0;
  // Last of what the connector thread reads (the batches, the pool, the ids): on an early exit it
  // is destroyed first, and its destructor drains and joins while they still exist.
  std::unique_ptr<AsyncConnector> conn;
  std::vector<double>&lookupUs, &startLoad, &waitForLayerLoad, &poll;

  int source(int q) const { return span.job(q); }
  int destination(int q) const { return span.job(q + half); }
  void expand(const ConnectorTask& t, std::deque<ConnectorJob>& out) const;
  void poisonDestinations();
  bool lookup(int q);
  void ready(int q, double doneUs);
  void drainCompletions();
  void publishCopies();
  void submitCopies(int q);
  void growTo(int q);
  void onGet(uint64_t tag, bool whole);
  void drainStore();
  void readRecords(int q);
  bool startGets(int q);
  void startAsync();
  void startBlocking();
};

}  // namespace kv
