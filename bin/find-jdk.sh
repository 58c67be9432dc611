# Sourced by ./sinew, bin/test and .ci/run: finds a JDK >= 25 (Sinew needs java.lang.foreign and
# the Vector API as Java 25 ships them). Bash only; defines functions, changes nothing else.
#
#   sinew_find_jdk        prints the home of a JDK >= 25 on stdout, or explains on stderr and
#                         returns 1. Order: JAVA_HOME (if >= 25), then the newest of /usr/lib/jvm/*,
#                         /opt/java/*, /usr/local/*jdk*, ~/.sdkman/candidates/java/*, and the
#                         `java` on PATH.
#   sinew_java_major DIR  prints the major version of DIR/bin/java (e.g. 25), or nothing.

SINEW_MIN_JAVA=25

sinew_java_major() {
    local home="$1" line ver
    [ -x "$home/bin/java" ] || return 0
    line="$("$home/bin/java" -version 2>&1 | head -n 1)" || return 0
    # openjdk version "25.0.1" 2025-10-21 | java version "1.8.0_392" | openjdk version "25" 2025-09-16
    ver="$(printf '%s\n' "$line" | sed -n 's/.*version "\([^"]*\)".*/\1/p')"
    [ -n "$ver" ] || return 0
    case "$ver" in
        1.*) ver="${ver#1.}" ;;
    esac
    ver="${ver%%[!0-9]*}"
    [ -n "$ver" ] && printf '%s\n' "$ver"
}

sinew_find_jdk() {
    local seen="" visited="" best="" best_major=0 cand real major on_path
    if [ -n "${JAVA_HOME:-}" ]; then
        major="$(sinew_java_major "$JAVA_HOME")"
        if [ -n "$major" ] && [ "$major" -ge "$SINEW_MIN_JAVA" ]; then
            printf '%s\n' "$JAVA_HOME"
            return 0
        fi
        seen="$seen JAVA_HOME=$JAVA_HOME (java ${major:-not found})"
    fi
    on_path=""
    if command -v java >/dev/null 2>&1; then
        on_path="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    fi
    for cand in /usr/lib/jvm/* /opt/java/* /usr/local/*jdk* "$HOME"/.sdkman/candidates/java/* $on_path; do
        if [ ! -d "$cand" ] || [ ! -x "$cand/bin/java" ]; then
            continue
        fi
        [ "$(basename "$cand")" = current ] && continue
        real="$(readlink -f "$cand")"
        case " $visited " in *" $real "*) continue ;; esac
        visited="$visited $real"
        major="$(sinew_java_major "$cand")"
        [ -n "$major" ] || continue
        if [ "$major" -ge "$SINEW_MIN_JAVA" ] && [ "$major" -gt "$best_major" ]; then
            best="$cand"
            best_major="$major"
        fi
        seen="$seen $cand (java $major)"
    done
    if [ -n "$best" ]; then
        printf '%s\n' "$best"
        return 0
    fi
    {
        echo "sinew: no JDK $SINEW_MIN_JAVA or newer found."
        echo "  looked at:${seen:- nothing (no JAVA_HOME, nothing under /usr/lib/jvm, /opt/java, /usr/local, ~/.sdkman)}"
        echo "  install one (e.g. Eclipse Temurin 25: apt-get install temurin-25-jdk from Adoptium's apt repository,"
        echo "  or openjdk-25-jdk where your distribution has it) and set JAVA_HOME to it."
    } >&2
    return 1
}

# Prints a hint and returns 1 when Maven is missing.
sinew_require_mvn() {
    if ! command -v mvn >/dev/null 2>&1; then
        echo "sinew: Maven (mvn) is needed to build Sinew: apt-get install maven (Debian/Ubuntu), or see https://maven.apache.org/install.html" >&2
        return 1
    fi
}

# MAVEN_OPTS for a JDK >= 24: silence the sun.misc.Unsafe warnings Maven 3.8's own libraries trigger.
sinew_maven_opts() {
    case " ${MAVEN_OPTS:-} " in
        *sun-misc-unsafe-memory-access*) printf '%s\n' "${MAVEN_OPTS:-}" ;;
        *) printf '%s\n' "${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
    esac
}
