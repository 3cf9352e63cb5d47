package org.userimport

/**
 * The host's existing users, looked up in batches (up to a couple of thousand keys a call).
 *
 * Implement both lookups; return the users found, in any order (keys not found are simply
 * absent). Logins and emails are compared ignoring case and surrounding spaces. Throw
 * `HostException.Failed` (or any exception) when a lookup cannot be done: the run stops with
 * `UserImportException.Directory`, as it does when a user returned is not valid.
 *
 * Each batch crosses the boundary packed ([PackedDirectory]: the keys as one string, the users
 * found as one JSON text), which this interface does for you. Everything that takes a directory
 * also takes the built-in ones (`memoryDirectory`, `directoryFromPath`,
 * `SqliteStore.asDirectory()`), which are [PackedDirectory] objects.
 */
interface Directory : PackedDirectory {
    /** The existing users with these logins. */
    fun findByLogins(logins: List<String>): List<User>

    /** The existing users with these email addresses. */
    fun findByEmails(emails: List<String>): List<User>

    /** [findByLogins] in the packed form the library calls: keys one a line in, JSON out. */
    override fun findPackedByLogins(logins: String): String = PackedUsers.pack(findByLogins(PackedUsers.keys(logins)))

    /** [findByEmails] in the packed form the library calls: keys one a line in, JSON out. */
    override fun findPackedByEmails(emails: String): String = PackedUsers.pack(findByEmails(PackedUsers.keys(emails)))
}

/**
 * The packed form of a directory lookup: keys one a line, users as a JSON array of arrays (each
 * user's fields in the order of the Rust record, which reads them back with serde).
 */
internal object PackedUsers {
    fun keys(packed: String): List<String> = packed.split('\n')

    fun pack(users: List<User>): String {
        val out = StringBuilder(64 + users.size * 96)
        out.append('[')
        for ((i, user) in users.withIndex()) {
            if (i > 0) out.append(',')
            user(out, user)
        }
        return out.append(']').toString()
    }

    private fun user(out: StringBuilder, user: User) {
        out.append('[')
        string(out, user.login).append(',')
        string(out, user.firstName).append(',')
        string(out, user.lastName).append(',')
        string(out, user.status.name).append(',')
        optional(out, user.email).append(',')
        strings(out, user.roles).append(',')
        optional(out, user.superior).append(',')
        optional(out, user.timezone).append(',')
        optional(out, user.hqRole?.name).append(',')
        optional(out, user.reference).append(',')
        strings(out, user.groups).append(',')
        map(out, user.products) { access ->
            when (access) {
                is ProductAccess.NoAccess -> string(out, "NO_ACCESS")
                is ProductAccess.Granted -> string(out, "GRANTED")
                is ProductAccess.Role -> string(out.append("{\"ROLE\":{\"name\":"), access.name).append("}}")
            }
        }.append(',')
        map(out, user.custom) { value ->
            when (value) {
                is CustomValue.Boolean -> out.append("{\"BOOLEAN\":{\"value\":").append(value.value).append("}}")
                is CustomValue.Number -> {
                    require(value.value.isFinite()) { "custom value ${value.value} of user '${user.login}' is not a finite number" }
                    out.append("{\"NUMBER\":{\"value\":").append(value.value).append("}}")
                }
                is CustomValue.Date -> string(out.append("{\"DATE\":{\"iso\":"), value.iso).append("}}")
                is CustomValue.Text -> string(out.append("{\"TEXT\":{\"value\":"), value.value).append("}}")
            }
        }.append(',')
        optional(out, user.passwordHash)
        out.append(']')
    }

    private fun optional(out: StringBuilder, text: String?): StringBuilder =
        if (text == null) out.append("null") else string(out, text)

    private fun strings(out: StringBuilder, texts: List<String>): StringBuilder {
        out.append('[')
        for ((i, text) in texts.withIndex()) {
            if (i > 0) out.append(',')
            string(out, text)
        }
        return out.append(']')
    }

    private inline fun <V> map(out: StringBuilder, entries: Map<String, V>, value: (V) -> Unit): StringBuilder {
        out.append('{')
        var first = true
        for ((key, v) in entries) {
            if (!first) out.append(',')
            first = false
            string(out, key).append(':')
            value(v)
        }
        return out.append('}')
    }

    /** A JSON string: quotes, backslashes and control characters escaped. */
    private fun string(out: StringBuilder, text: String): StringBuilder {
        out.append('"')
        for (c in text) {
            when {
                c == '"' -> out.append("\\\"")
                c == '\\' -> out.append("\\\\")
                c < ' ' -> out.append("\\u").append(HEX[c.code shr 12 and 15]).append(HEX[c.code shr 8 and 15])
                    .append(HEX[c.code shr 4 and 15]).append(HEX[c.code and 15])
                else -> out.append(c)
            }
        }
        return out.append('"')
    }

    private const val HEX = "0123456789abcdef"
}
