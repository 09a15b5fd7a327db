# Resources that bind (issue 10): tags by rank, host and hwloc; holds;
# fractions; no head-of-line blocking; priority among waiting runs;
# impossible requests; bad input.
set(HW ${CMAKE_CURRENT_SOURCE_DIR}/hw)

pd_expect(mpi.resources LABEL mpi NP 4 RC 1 TIMEOUT 90
  ARGS -t 2 -c ${INI}/gpu_ranks.ini ${F}/resources.so
  HAS "resources checks passed"
      "plain runs done while a GPU run waits"
      "priority: the priority-7 GPU run went first"
  MATCH "impossible: resources GPU=4: no worker has that much; the workers have: rank 1 CPU=2,MEM=[0-9.e+]+,GPU=1; rank 2 CPU=2,MEM=[0-9.e+]+,GPU=1; rank 3 CPU=2,MEM=[0-9.e+]+[.] Give workers resources"
        "impossible: resources TPU=1: no worker has that much"
  HASNOT "MISMATCH")

# Tags from the three sources, shown with where each came from; hwloc's
# GPUs (an XML topology with two) split between the node's two workers.
pd_script(mpi.resource_tags SCRIPT resources.sh PASS "resources ok"
  ARGS $<TARGET_FILE:pdask-mpi> ${F} ${HW})

# A run holds the GPU of its worker: ids and CUDA_VISIBLE_DEVICES.
pd_expect(mpi.resource_gpu_ids LABEL mpi NP 3 ARGS ${F}/gpuids.so
  ENV HWLOC_SYNTHETIC= HWLOC_XMLFILE=${HW}/gpus2.xml
  MATCH "rank 1 holds GPU=1 ids=1:0 CUDA_VISIBLE_DEVICES=0\n"
        "rank 2 holds GPU=1 ids=1:1 CUDA_VISIBLE_DEVICES=1\n"
  COUNT 4 "holds GPU=1 ids=1:")

# Bad input: exit 2 with the place named, before or instead of any work.
pd_expect(bad.annotation_resources LABEL mpi NP 2 RC 2
  ARGS ${F}/badannotate.so
  HAS "error: flow badannotate: PD_ANNOTATE (or pd_annotate_push) resources \"GPU=lots\": the amount of GPU is not a positive number; write e.g. GPU=1: fix the annotation"
  HASNOT "NOT REACHED")
pd_expect(bad.annotation_workers LABEL mpi NP 2 RC 2
  ARGS ${F}/badannotate.so resources=GPU=1 workers=two
  HAS "PD_ANNOTATE (or pd_annotate_push) workers = \"two\": write worker ranks (1 and up) like \"1,3\" or \"2-4\""
  HASNOT "NOT REACHED")
pd_expect(bad.task_resources LABEL mpi NP 2 RC 2 ARGS ${F}/badtaskres.so
  HAS "task 'noop': PD_TASK(noop, ...) has resources \"GPU=-2\": the amount of GPU is not a positive number"
  HASNOT "Beginning flow run")
pd_expect(bad.ini_worker_section LABEL mpi NP 2 RC 2
  ARGS -c ${INI}/bad_worker.ini ${F}/resources.so
  MATCH "bad_worker.ini:3: [[]worker 1[]] resources \"GPU=1,GPU=2\": GPU is given twice")

# prefect-dask's README resources example: show(0) holds the GPU, and
# show(1..3) run one after another on a worker of eight threads.
pd_expect(example.resources LABEL example NP 2 MIN_SECONDS 0.8
  ARGS ${EX}/resources.so
  MATCH "[|] show 0 start [(]holds GPU=1 process=0[)]\n[^\n]*[|] show 0 end\n"
        "[|] show 1 start [(]holds GPU=0 process=1[)]\n[^\n]*[|] show 1 end\n[^\n]*[|] show 2 start [(]holds GPU=0 process=1[)]\n[^\n]*[|] show 2 end\n[^\n]*[|] show 3 start [(]holds GPU=0 process=1[)]\n[^\n]*[|] show 3 end\n"
  HAS "Finished in state Completed: 4 of 4 task runs completed")
# Spawned workers take resource tags like the job's: an adaptive pool
# that starts empty grows a worker with GPU=1 and process=1.
pd_expect(mpi.resources_adaptive LABEL mpi NP 1 TIMEOUT 90
  ARGS --adapt-max 2 ${EX}/resources.so
  MATCH "Scaling from 0 to 1 workers"
        "show 0 start [(]holds GPU=1 process=0[)]"
        "show 3 start [(]holds GPU=0 process=1[)]"
  HAS "Finished in state Completed: 4 of 4 task runs completed")
