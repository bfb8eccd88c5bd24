# How the modtrack JVM is started: sourced by bin/modtrack and by a release's launcher
# (lib/launch.sh), so POSIX sh.

# class_archive DIR NAME JAR: sets class_archive to the class data archive for JAR in DIR
# (DIR/NAME-TIME-SIZE.jsa) and removes DIR's other NAME-*.jsa; sets it empty where DIR is not a
# writable directory.
#
# The daemon loads its classes from that archive, which the JVM writes as the daemon first ends (a
# SIGKILL writes none): a restart listens about 0.2 s sooner (docs/install.md, *Restarts*). The JVM
# refuses an archive made for another jar (its time and size) but does not write it again, so each
# build of the jar has an archive of its own and the others go. Only where it can be written: a JVM
# that cannot write it exits with status 1.
class_archive() {
  class_archive=
  if [ -d "$1" ] && [ -w "$1" ]; then
    class_archive="$1/$2-$(stat -c %Y-%s "$3").jsa"
    for old in "$1/$2"-*.jsa; do
      [ "$old" = "$class_archive" ] || rm -f "$old"
    done
  fi
}

# daemon_heap ARGS...: sets daemon_heap to the JVM option (-XmxSIZE) for the heap bound that the
# daemon's arguments ask for: --heap SIZE, else the last "heap = SIZE" of its --config FILE (the
# daemon's own rule: the command line wins); empty for none, or for a size the daemon will refuse
# itself, in one line (DaemonConfig.parseSize). The JVM's bound is fixed before the daemon reads
# its options, hence here.
daemon_heap() {
  daemon_heap= heap_arg= heap_file=
  while [ $# -gt 0 ]; do
    case "$1" in
      --heap) heap_arg=${2-}; [ $# -gt 1 ] && shift ;;
      --heap=*) heap_arg=${1#--heap=} ;;
      --config) heap_file=${2-}; [ $# -gt 1 ] && shift ;;
      --config=*) heap_file=${1#--config=} ;;
    esac
    shift
  done
  if [ -z "$heap_arg" ] && [ -n "$heap_file" ] && [ -r "$heap_file" ]; then
    heap_arg=$(sed -n -e 's/#.*//' -e 's/^[[:space:]]*[Hh][Ee][Aa][Pp][[:space:]]*=[[:space:]]*//p' "$heap_file" \
      | sed 's/[[:space:]]*$//' | tail -n 1)
  fi
  # Digits (no leading zero: sh would read them as octal) and a unit; at most 15 digits.
  case "$heap_arg" in
    ''|*[!0-9KkMmGgTt]*|[!1-9]*|*[KkMmGgTt]?*|????????????????*) return ;;
  esac
  heap_digits=${heap_arg%[KkMmGgTt]}
  case "${heap_arg#"$heap_digits"}" in
    [Kk]) heap_shift=10 ;; [Mm]) heap_shift=20 ;; [Gg]) heap_shift=30 ;; [Tt]) heap_shift=40 ;; *) heap_shift=0 ;;
  esac
  # Below 64 MiB (2^26 bytes, HeapBound.MIN_BYTES) the JVM keeps its default: the daemon refuses the option.
  if [ "$heap_shift" -ge 26 ] || [ $(( heap_digits >> (26 - heap_shift) )) -gt 0 ]; then
    daemon_heap="-Xmx$heap_arg"
  fi
}

# exec_modtrack JAVA OPTIONS_FILE JAR ARCHIVE ARGS...: runs the CLI in JAR with the JVM options of
# OPTIONS_FILE, then the class data archive's (ARCHIVE empty: none), then, for the daemon, the heap
# bound its options ask for (daemon_heap), then MODTRACK_JAVA_OPTIONS (more JVM options, e.g.
# -Xmx2g, which wins over the daemon's heap option; one that picks another collector turns the
# default's off first, since a JVM refuses two). The archive's messages are off: a class it cannot
# hold is no news.
exec_modtrack() {
  launch_java=$1 launch_options=$2 launch_jar=$3 launch_archive=$4
  shift 4
  daemon_heap=
  if [ "${1-}" = daemon ]; then
    daemon_heap "$@"
  fi
  launch_extra="$daemon_heap ${MODTRACK_JAVA_OPTIONS-}"
  case " $launch_extra " in *" -XX:+Use"*"GC "*) launch_extra="-XX:-UseG1GC $launch_extra" ;; esac
  if [ -n "$launch_archive" ]; then
    # shellcheck disable=SC2086 # the options are words
    exec "$launch_java" @"$launch_options" -XX:+AutoCreateSharedArchive "-XX:SharedArchiveFile=$launch_archive" \
      -Xlog:cds=off -Xlog:cds+dynamic=off $launch_extra -jar "$launch_jar" "$@"
  fi
  # shellcheck disable=SC2086 # the options are words
  exec "$launch_java" @"$launch_options" $launch_extra -jar "$launch_jar" "$@"
}
