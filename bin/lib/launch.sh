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

# exec_modtrack JAVA OPTIONS_FILE JAR ARCHIVE ARGS...: runs the CLI in JAR with the JVM options of
# OPTIONS_FILE, then the class data archive's (ARCHIVE empty: none), then MODTRACK_JAVA_OPTIONS
# (more JVM options, e.g. -Xmx2g; one that picks another collector turns the default's off first,
# since a JVM refuses two). The archive's messages are off: a class it cannot hold is no news.
exec_modtrack() {
  launch_java=$1 launch_options=$2 launch_jar=$3 launch_archive=$4
  shift 4
  launch_extra=${MODTRACK_JAVA_OPTIONS-}
  case " $launch_extra " in *" -XX:+Use"*"GC "*) launch_extra="-XX:-UseG1GC $launch_extra" ;; esac
  if [ -n "$launch_archive" ]; then
    # shellcheck disable=SC2086 # the options are words
    exec "$launch_java" @"$launch_options" -XX:+AutoCreateSharedArchive "-XX:SharedArchiveFile=$launch_archive" \
      -Xlog:cds=off -Xlog:cds+dynamic=off $launch_extra -jar "$launch_jar" "$@"
  fi
  # shellcheck disable=SC2086 # the options are words
  exec "$launch_java" @"$launch_options" $launch_extra -jar "$launch_jar" "$@"
}
