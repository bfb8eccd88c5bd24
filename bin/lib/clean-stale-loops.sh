#!/usr/bin/env bash
# Cleans what a killed test JVM left behind: every mount under /tmp/modtrack-loop-*, every loop
# device whose backing file is there, the directories themselves, and the working directories of the
# daemon and Kafka tests. Spares what a living test process owns (another checkout's run). Prints
# what it cleaned.
# Why: LoopMount/TmpfsMount (modtrack-testing) clean up on close and in a shutdown hook, but a
# SIGKILLed JVM runs neither. Only directories with that prefix are touched.
# Usage: bin/lib/clean-stale-loops.sh   (as root; CI runs it before bin/test)
set -uo pipefail
prefix=/tmp/modtrack-loop-

# Whether the test process that made fixture directory $1 still runs (its pid in owner.pid): a test
# run in another checkout is not stale, and its mounts are left alone.
alive() {
  local pid
  pid=$(cat "$1/owner.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# The fixture directory (/tmp/modtrack-loop-NNNN) of a path in it.
fixture() {
  echo "$1" | cut -d/ -f1-3
}

# Deepest first, so nested mounts go before their parents. /proc/mounts escapes spaces as \040;
# our directories have none.
awk -v p="$prefix" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r mnt; do
  alive "$(fixture "$mnt")" && continue
  # A test killed while it held a file system frozen (the freeze barrier, the stalled-journal test)
  # leaves it frozen; thaw first, or writers and the unmount would wait forever.
  fsfreeze -u "$mnt" 2>/dev/null && echo "clean-stale-loops: thawed $mnt"
  if umount "$mnt" 2>/dev/null; then
    echo "clean-stale-loops: unmounted $mnt"
  elif umount -l "$mnt"; then
    echo "clean-stale-loops: $mnt was busy; detached it lazily (umount -l)"
  else
    echo "clean-stale-loops: could not unmount $mnt" >&2
  fi
done

# A backing file may show as "... (deleted)" once its directory is gone; match the prefix only.
losetup --list --noheadings --output NAME,BACK-FILE 2>/dev/null | while read -r dev back; do
  case "$back" in
    "$prefix"*)
      alive "$(fixture "$back")" && continue
      if losetup -d "$dev"; then
        echo "clean-stale-loops: detached $dev ($back)"
      else
        echo "clean-stale-loops: could not detach $dev ($back)" >&2
      fi
      ;;
  esac
done

for dir in "$prefix"*; do
  [ -d "$dir" ] || continue
  alive "$dir" && continue
  if awk -v p="$dir/" 'index($2 "/", p) == 1 {found = 1} END {exit !found}' /proc/mounts; then
    echo "clean-stale-loops: kept $dir: something is still mounted inside" >&2
    continue
  fi
  # --one-file-system: never follow into a mount that appeared meanwhile.
  rm -rf --one-file-system "$dir" && echo "clean-stale-loops: deleted $dir"
done

# The working directories of tests with daemons and brokers (sockets, state, a broker's log), which
# a killed JVM cannot remove either; nothing is mounted in them.
# Only those not touched for an hour: a test of another checkout may be using a fresh one.
for dir in /tmp/modtrack-daemon-test-* /tmp/modtrack-kafka-test-*; do
  [ -d "$dir" ] || continue
  [ -n "$(find "$dir" -maxdepth 0 -mmin +60)" ] || continue
  rm -rf --one-file-system "$dir" && echo "clean-stale-loops: deleted $dir"
done
exit 0
