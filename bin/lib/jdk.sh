# Sourced by the scripts in bin/: finds a JDK 25 and exports JAVA_HOME for it.
# Order: $JAVA_HOME if it is 25 or newer, then /usr/lib/jvm/*25* (Temurin first).
# Why: the machine's default java is 17, and nothing should need exporting by hand.

# The major version of the JDK in $1: from its release file where it has one (starting a JVM to ask
# costs every command about 50 ms), else from the JVM.
modtrack_java_major() {
  local major=
  if [ -r "$1/release" ]; then
    major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  fi
  if [ -z "$major" ]; then
    major=$("$1/bin/java" -XshowSettings:properties -version 2>&1 \
      | awk -F'= ' '/java.specification.version/ {print $2; exit}')
  fi
  printf '%s\n' "$major"
}

modtrack_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25-* /usr/lib/jvm/*25*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(modtrack_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if ! MODTRACK_JDK=$(modtrack_find_jdk); then
  echo "modtrack needs a JDK 25: none found in \$JAVA_HOME or /usr/lib/jvm (install Temurin 25 or set JAVA_HOME)." >&2
  exit 3
fi
export JAVA_HOME="$MODTRACK_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
