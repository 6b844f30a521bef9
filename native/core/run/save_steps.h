// The save side of the steps beside the forward (save_steps.cu); a mixed run (mix_steps.cu)
// runs one beside a LoadSteps.
#pragma once
#include <deque>
#include <memory>
#include <vector>

#include "step_loop.h"

namespace kv {

class SaveSteps : public DirectionSteps {
 public:
  // Saves jobs of `span` (its job j is span.job(j)), jobsPerStep of them a step.
  SaveSteps(Rig& rig, Design design, Strategy s, JobSpan span, int jobsPerStep, uint64_t genBase, int steps);
  void beforeLaunches(StepHooks& h) override;
  void layer(int l, StepHooks& h) override;
  void afterLaunches(StepHooks& h) override;
  void finish() override;
  void verify() override;

 private:
  // The connector orders a save after its layer's event when it enqueues the copy, which can
  // be a few steps later (it keeps only kQueuedBytes on the GPU): a deep ring of events keeps
  // that wait on the step that wrote the blocks, not a later reuse of the event.
  static constexpr int kEventSteps = 16;
  // Async: every task lives in one ring, at its id: save_layer writes it in place, a step's
  // tasks are published as one span, and a completion (an id) finds its task there. A slot is
  // written again only once its task completed; the ring holds kTaskSteps steps of tasks, far
  // more than are ever in flight (the bytes in flight are capped at two steps' worth).
  static constexpr int kTaskSteps = 16;
  // Where every step's KV writes do not fit in kAllWritesBytes (or a quarter of the free GPU
  // memory), each step's are built and uploaded through a ring of this many pinned slots (the
  // per-step sync makes a slot free again).
  static constexpr int kWriteSlots = 4;
  static constexpr size_t kAllWritesBytes = size_t{4} << 30;

  const JobSpan span;
  const int jobsPerStep, groupsPerLayer;
  const uint64_t genBase;
  const double jobBytes, inflightCap;
  const size_t perLayer, perStep;
  // Every step's KV writes are uploaded before the first step where they fit: building them is
  // the synthetic forward's work, not an engine's, and built each step it kept the host from
  // launching the step (the 70B shard's 390k writes a step: 31.6 ms wall against a 25.7 ms GPU
  // step, H200 2026-12-03, so the link idled and the load offered per GPU step fell short of
  // the link per wall step). A mixed run always does: a per-step upload on the compute stream
  // queued behind the loads' host-to-device copies, and beside the link reference's back-to-back
  // loads a step waited seconds for it (H200, 2026-12-02).
  const bool allWrites;
  const int writeSlots;
  PinnedBuffer hostRing;
  DeviceBuffer writes;
  std::vector<ChunkRef> refs;
  std::vector<Event> layerDone;
  // Every completed save task, in completion order: verify replays them into each extent's last
  // generation. Kept as one entry a task so poll does not touch a slot per job (the 70B shard's
  // 17 jobs a task, 80 tasks a step).
  struct SavedTask {
    int step, first, layer, count;
  };
  std::vector<SavedTask> saved;
  // Per job: the newest task that saves any layer of its blocks. An engine cannot rewrite a
  // block whose save has not finished, so the forward waits for it (a slow connector's cost).
  // Tasks complete in order, so the newest one stands for every layer of the job.
  std::vector<long long> jobPending;
  std::unique_ptr<Stream> saveMain, saveAux;
  std::unique_ptr<Copier> copier;     // blocking: save_layer enqueues the copies itself
  std::deque<ConnectorJob> blockingJobs;
  std::vector<ConnectorTask> stepTasks;  // blocking: this step's saves, complete at wait_for_save
  std::vector<ConnectorTask> tasks;   // async: the task ring
  long long taskRing = 1, stepTaskMax = 0;
  long long submitted = 0, completed = 0, published = 0;  // tasks; they complete in submission order
  double inflightBytes = 0;
  // Last of what the connector thread reads (the task ring, the pool, the ids): on an early exit
  // it is destroyed first, and its destructor drains and joins while they still exist.
  std::unique_ptr<AsyncConnector> conn;
  std::vector<double>&waitForBlockFree, &saveLayer, &publishSaves, &poll, &waitForSave;

  // The data generation step st's KV writes hold (and so its saves).
  long long genOf(int step) const { return static_cast<long long>(genBase) + step; }
  void expand(const ConnectorTask& t, std::deque<ConnectorJob>& out) const;
  static bool allWritesFit(int total, size_t perStep);
  void buildStepRefs(int st);
  void uploadStep(int st);
  void uploadEveryStep();
  void complete(const ConnectorTask& t, double doneUs);
  void drainCompletions();
  void waitForBlocksFree(int st);
  bool skip(int st, int l, int k0, int n);
  void submit(int st, int l, int k0, int n, cudaEvent_t ev, double t0);
  void saveWhole();
  static void ignore(uint64_t, bool) {}
};

}  // namespace kv
