package org.userimport

import java.io.File

/** The repository's fixture files and a configuration for them (the same as the Python suite's). */
object Fixtures {
    val root: File = File(System.getProperty("userimport.root") ?: "../..").canonicalFile
    val data = File(root, "tests/data")
    val examples = File(root, "examples")
    val usersCsv: String = File(data, "users.csv").path

    const val USERS_TOML = """
[schema]
fields = [
    { field = "first_name", required = true },
    { field = "last_name", required = true },
    { field = "login", required = true },
    { field = "email", required = true },
    { field = "password" },
    { field = "roles", required = true },
    { field = "superior" },
    { field = "reference" },
]
[[schema.custom_fields]]
name = "start_date"
label = "Start Date"
kind = "date"
[catalog]
roles = ["Admin", "Editor", "Viewer"]
[catalog.password_policy]
min_length = 8
"""

    /** Cheap argon2 parameters: the tests hash a handful of passwords. */
    val fastHashing = PasswordHashing(memoryKib = 1024u, iterations = 1u, parallelism = 1u)

    fun importer(): Importer = Importer.fromToml(USERS_TOML)

    fun user(login: String, email: String? = null, roles: List<String> = listOf(), timezone: String? = null) =
        User(login = login, firstName = login.replaceFirstChar { it.uppercase() }, lastName = "Existing",
            status = Status.ACTIVE, email = email, roles = roles, timezone = timezone)

    fun upload(rows: Int): ByteArray {
        val text = StringBuilder("First Name,Last Name,Login Name,E-mail Address,Roles\n")
        for (i in 0 until rows) text.append("F$i,L$i,user$i,user$i@example.com,Viewer\n")
        return text.toString().toByteArray()
    }
}

/** A host directory: existing users in a map, looked up in batches. */
open class MapDirectory(users: List<User> = listOf()) : Directory {
    val byLogin = users.associateBy { it.login.trim().lowercase() }
    val calls = java.util.Collections.synchronizedList(mutableListOf<Pair<String, Int>>())

    override fun findByLogins(logins: List<String>): List<User> {
        calls.add("logins" to logins.size)
        return logins.mapNotNull { byLogin[it.trim().lowercase()] }
    }

    override fun findByEmails(emails: List<String>): List<User> {
        calls.add("emails" to emails.size)
        val wanted = emails.map { it.trim().lowercase() }.toSet()
        return byLogin.values.filter { it.email?.lowercase() in wanted }
    }
}

/**
 * A host database: users in a map, written in one transaction. It implements both interfaces, so
 * the same object is the directory of the plan and the store the plan is applied to.
 */
open class MapStore(users: List<User> = listOf(), private val failOn: String? = null) : UserStore, Directory {
    var users: MutableMap<String, User> = users.associateBy { it.login.lowercase() }.toMutableMap()
    private var pending: MutableMap<String, User>? = null
    val events = mutableListOf<String>()
    val log = mutableListOf<ImportLogEntry>()
    val groups = mutableListOf<String>()
    val fields = mutableListOf<CustomFieldSpec>()

    private fun event(name: String) {
        events.add(name)
        if (failOn == name) throw HostException.Failed("the database refused $name")
    }

    override fun findByLogins(logins: List<String>): List<User> = logins.mapNotNull { users[it.trim().lowercase()] }

    override fun findByEmails(emails: List<String>): List<User> {
        val wanted = emails.map { it.trim().lowercase() }.toSet()
        return users.values.filter { it.email?.lowercase() in wanted }
    }

    override fun begin() {
        event("begin")
        pending = users.toMutableMap()
    }

    override fun createUsers(users: List<User>) {
        event("createUsers")
        val tx = pending!!
        for (u in users) {
            check(u.login.lowercase() !in tx) { "${u.login} exists" }
            u.superior?.let { check(it.lowercase() in tx) { "superior of ${u.login} not written yet" } }
            tx[u.login.lowercase()] = u
        }
    }

    override fun updateUsers(users: List<User>) {
        event("updateUsers")
        val tx = pending!!
        for (u in users) {
            val stored = tx.getValue(u.login.lowercase())
            tx[u.login.lowercase()] = if (u.passwordHash == null) u.copy(passwordHash = stored.passwordHash) else u
        }
    }

    override fun createGroups(groups: List<String>) {
        event("createGroups")
        this.groups.addAll(groups)
    }

    override fun addCustomFields(fields: List<CustomFieldSpec>) {
        event("addCustomFields")
        this.fields.addAll(fields)
    }

    override fun logImport(entry: ImportLogEntry) {
        event("logImport")
        log.add(entry)
    }

    override fun commit() {
        event("commit")
        users = pending!!
        pending = null
    }

    override fun rollback() {
        events.add("rollback")
        pending = null
    }
}
