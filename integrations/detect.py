"""Past 400 lines as one thing: the alias tables of every system we know are data, and reading
them apart from the matching that walks them would only scatter one lookup over two files.

Auto-detection for the mapping step (issue 12, SPEC §4.5): which column of a foreign file feeds
which of our standard columns, and which of its values mean ours. Pure Python, no database, so
the upload page, the command line and the tests all propose the same thing for the same header.

Matching goes from sure to unsure: our own headers and the known headers of each system (exact
after normalise()), then the headers that mean something else in some system (Outlook's
"Title" is a salutation; "Name" and "Company" could be anyone's) only when nothing better is
there, and last rapidfuzz on what is left, with a high cutoff. Every guess that is not sure is
in Proposal.doubtful with the reason, for a person to check; nothing is taken blindly.

Headers come from these public descriptions of each system's exports and imports:
- Salesforce Contact (data export Contact.csv, API names): the object reference,
  https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contact.htm
  and the field order a full export writes (Id, IsDeleted, MasterRecordId, AccountId, LastName,
  FirstName, Salutation, Name, Mailing…, Phone, Fax, MobilePhone, …, Email, Title, Department…).
- Salesforce reports and the import wizard (field labels: First Name, Account Name, Mailing
  Street…): https://wildandfreetools.com/blog/format-csv-for-salesforce-import
- HubSpot contacts export ("Record ID - Contact", "First Name", "Phone Number", "Contact owner",
  "Lead Status", …) and import files with property internal names (email, firstname, jobtitle):
  https://knowledge.hubspot.com/articles/kcs_article/contacts/how-do-i-import-contacts
  https://wildandfreetools.com/blog/format-csv-for-hubspot-contact-import
- Google Contacts CSV, new ("First Name", "Organization Name", "E-mail 1 - Value") and old
  ("Name", "Given Name", "Family Name", "Organization 1 - Name", "Organization 1 - Title"):
  https://support.google.com/contacts/answer/1069522
- Outlook CSV ("Title" is the salutation, "Job Title" the job, "E-mail Address",
  "Business Phone"): https://support.microsoft.com/en-us/office/create-or-edit-csv-files-to-import-into-outlook-4518d70d-8fe9-46ad-94fa-1494247193c7
- Zoho CRM contacts (a full-name column, "Account Name", "Contact Owner"):
  https://help.zoho.com/portal/en/kb/crm/faqs/sales-force-automation/contact-management/articles/contact-management
  https://www.zoho.com/contactmanager/help/import-contacts.html
- Mailchimp audience export ("Email Address", "First Name", "Last Name", "Address",
  "Phone Number", MEMBER_RATING, OPTIN_TIME…): https://mailchimp.com/help/view-export-contacts/
- Pipedrive persons ("Name", "Email", "Phone", "Organization", "Label"):
  https://support.pipedrive.com/en/article/importing-mandatory-fields
  https://getcapt.com/blog/pipedrive-import-csv
- Gainsight people ("Company Name", "Email", "Title", "Role"):
  https://support.gainsight.com/View_More_Categories/GainsightNXT/03Connectors/02File-Based_Integration/Uploading_Person_Records_into_Gainsight
- Totango users ("User id", "Account Id", "Contact" and "Key Contact" yes/no, the layout our
  standard file follows): https://support.totango.com/hc/en-us/articles/209110166-Sending-Data-to-Totango-via-csv-Files
  https://support.totango.com/hc/en-us/articles/360033534772-Prepare-a-data-file-for-upload-CSV
"""

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from .mapping import TARGETS, source_names

# The targets whose values must come from a fixed set: the mapping page offers a value map.
VALUE_TARGETS = ("Account Role", "Contact", "Key Contact", "Account Type")

# What a template reads as blank unless it says otherwise: the placeholders exports write for
# "nothing here" (null and None from databases and scripts, #N/A from Excel, [not provided]
# from HubSpot and Google Analytics, (blank) from pivot tables, a dash from people).
EMPTY_VALUES = (
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "N/A",
    "n/a",
    "#N/A",
    "[not provided]",
    "-",
    "--",
    "(blank)",
    "(none)",
)

# Two pseudo-targets of a users file: a company or account NAME (the account is then looked up
# by its exact name) and a person's full name (split into First and Last Name). They are
# proposed only when the real target they stand in for is missing.
ACCOUNT_NAME = "account name"
FULL_NAME = "full name"

# Known headers of every system, by target, best first. A target takes the first of these the
# file has; the first occurrence of a repeated header wins. No header here names two targets of
# one file kind (tests check it).
ALIASES = {
    "users": {
        "Account ID": (
            "Account ID",
            "AccountId",
            "Account External ID",
            "External Account ID",
            "Company ID",
            "Associated Company ID",
            "Record ID - Company",
            "Organization ID",
            "Organization - ID",
        ),
        "Email": (
            "Email",
            "E-mail",
            "Email Address",
            "E-mail Address",
            "E-mail 1 - Value",
            "Primary Email",
            "Work Email",
            "Email - Work",
            "Person - Email",
            "User Email",
            "Business Email",
        ),
        "First Name": (
            "First Name",
            "FirstName",
            "Given Name",
            "Person - First name",
            "Forename",
            "First",
        ),
        "Last Name": (
            "Last Name",
            "LastName",
            "Family Name",
            "Surname",
            "Person - Last name",
            "Last",
        ),
        "Title": (
            "Job Title",
            "JobTitle",
            "Organization Title",
            "Organization 1 - Title",
            "Position",
            "Job Position",
            "Person - Job title",
            "Designation",
        ),
        "Phone": (
            "Phone",
            "Phone Number",
            "Business Phone",
            "Work Phone",
            "Office Phone",
            "Primary Phone",
            "Phone 1 - Value",
            "Phone - Work",
            "Person - Phone",
            "Telephone",
            "Mobile Phone",
            "MobilePhone",
            "Mobile Phone Number",
            "Mobile",
            "Phone - Mobile",
        ),
        "Account Role": (
            "Account Role",
            "Contact Role",
            "Contact Roles",
            "Contact Type",
            "Relationship Role",
            "Person Role",
            "Roles",
        ),
        "Contact": ("Contact", "Is Contact"),
        "Key Contact": ("Key Contact", "Is Key Contact", "Primary Contact", "Main Contact"),
        # Issue 14's membership columns: our own names only. Other systems' "Status" columns
        # (lead or lifecycle stages) are not whether someone is still at the account.
        "Status": ("Status",),
        "Start Date": ("Start Date",),
        "End Date": ("End Date",),
        ACCOUNT_NAME: (
            "Account Name",
            # HubSpot: the company record the contact is associated with, before the free text
            # a form or a person typed in "Company Name".
            "Associated Company",
            "Associated Company Name",
            "Company Name",
            "Organization Name",
            "Organization 1 - Name",
            "Organization - Name",
            "Person - Organization",
            "Account.Name",
            "Employer",
        ),
        FULL_NAME: ("Full Name", "Contact Name", "Person - Name", "Person Name", "Display Name"),
    },
    "accounts": {
        "Account ID": (
            "Account ID",
            "AccountId",
            "Account External ID",
            "External Account ID",
            "External ID",
            "Company ID",
            "Record ID - Company",
            "Organization ID",
            "Organization - ID",
            "Id",
            "Record ID",
        ),
        "Account Name": (
            "Account Name",
            "Company Name",
            "Organization Name",
            "Organization - Name",
            "Company name",
        ),
        "Account Type": ("Account Type", "Company Type", "Organization Type", "Type"),
        "Parent Account ID": (
            "Parent Account ID",
            "ParentId",
            "Parent ID",
            "Parent Account External ID",
            "Parent Company ID",
            "Parent Organization ID",
        ),
    },
}


@dataclass(frozen=True)
class Ambiguous:
    """A header that means one of our columns in some systems and something else in others.
    It is proposed only when no known header fills the target, and then with `note`; `clear_with`
    are headers whose presence settles the doubt (Salesforce has a Salutation column, so its
    Title is the job title)."""

    header: str
    note: str
    clear_with: tuple = ()


TITLE_NOTE = (
    "“{header}” is a salutation (Mr., Dr.) in Outlook and a job title elsewhere: check that it "
    "holds job titles."
)
NAME_NOTE = "“{header}” is split into First and Last Name: check that it holds people's names."
COMPANY_NOTE = (
    "Accounts are found by the exact name in “{header}”: check that it holds account names."
)

AMBIGUOUS = {
    "users": {
        "Title": (
            Ambiguous("Title", TITLE_NOTE, clear_with=("Salutation", "Name Prefix", "Prefix")),
        ),
        "Account Role": (
            Ambiguous("Role", "“{header}” may be a job role: check that it holds account roles."),
        ),
        ACCOUNT_NAME: (
            Ambiguous("Company", COMPANY_NOTE),
            Ambiguous("Organization", COMPANY_NOTE),
            Ambiguous("Organisation", COMPANY_NOTE),
            Ambiguous("Account", COMPANY_NOTE),
        ),
        FULL_NAME: (Ambiguous("Name", NAME_NOTE),),
    },
    "accounts": {
        "Account Name": (
            Ambiguous("Name", "“{header}” is taken as the account's name: check it."),
            Ambiguous("Company", "“{header}” is taken as the account's name: check it."),
            Ambiguous("Organization", "“{header}” is taken as the account's name: check it."),
        ),
        "Parent Account ID": (
            Ambiguous(
                "Parent Account",
                "“{header}” must hold the parent's Account ID, not its name: check it.",
            ),
        ),
    },
}

# Headers of those systems that look like one of ours but are not: ids of the person or of its
# owner, other emails and phones, the person's name parts. They are never fuzzy-matched, so
# "Contact ID" never becomes an Account ID and "E-mail 2 Address" never the Email.
NOT_OURS = (
    "Id",
    "Record ID",
    "Record ID - Contact",
    "Contact ID",
    "User ID",
    "Person ID",
    "Lead ID",
    "MasterRecordId",
    "OwnerId",
    "Owner",
    "Contact Owner",
    "Account Owner",
    "Company owner",
    "ReportsToId",
    "Salutation",
    "Name Prefix",
    "Prefix",
    "Middle Name",
    "MiddleName",
    "Additional Name",
    "Suffix",
    "Name Suffix",
    "Nickname",
    "File As",
    "E-mail 1 - Label",
    "E-mail 1 - Type",
    "E-mail 2 - Value",
    "E-mail 2 Address",
    "E-mail 3 Address",
    "E-mail Type",
    "E-mail Display Name",
    "Email - Home",
    "Phone 1 - Label",
    "Phone 1 - Type",
    "Phone 2 - Value",
    "Home Phone",
    "Home Phone 2",
    "Business Phone 2",
    "Other Phone",
    "Assistant's Phone",
    "AssistantPhone",
    "HomePhone",
    "OtherPhone",
    "Company Main Phone",
    "Fax",
    "Business Fax",
    "Home Fax",
    "Phone - Home",
    "Department",
    "Organization Department",
    "Organization 1 - Department",
    "Account Type",
    "Type",
    "Contact Type ID",
)

FUZZY_CUTOFF = 88  # rapidfuzz ratio (0–100) on normalised headers: typos, not other words
VALUE_CUTOFF = 85
YES = frozenset({"true", "1", "y", "yes", "x", "✓", "✔"})
NO = frozenset({"false", "0", "n", "no"})


def normalise(header):
    """The header as matching sees it: casefolded, with spaces, hyphens, underscores and other
    punctuation dropped ("E-mail 1 - Value" → "email1value", "first_name" → "firstname")."""
    return "".join(character for character in str(header).casefold() if character.isalnum())


def _match_key(header):
    """normalise(), with a Salesforce custom field's "__c" suffix taken off first, so that
    "Key_Contact__c" is matched as "Key Contact"."""
    header = str(header).strip()
    if header.casefold().endswith("__c"):
        header = header[:-3]
    return normalise(header)


@dataclass
class Proposal:
    """What auto-detection proposes for one file's header; the mapping page pre-fills with it.

    columns: target (our header) → source name (as source_names() names it).
    full_name: a source to split into First and Last Name, when the file has neither.
    account_lookup: "Account ID", or "Account Name" when the file has no account id but a
        company or account name; columns["Account ID"] is then that name's column.
    doubtful: target → why a person should check it (or why a look-alike was left out).
    unused: the sources proposed for nothing, in file order.
    """

    columns: dict = field(default_factory=dict)
    full_name: str | None = None
    account_lookup: str = "Account ID"
    doubtful: dict = field(default_factory=dict)
    unused: list = field(default_factory=list)


def propose(headers, file_kind):
    """Propose a mapping of a file with these headers onto our `file_kind` ("users" or
    "accounts") file. Never proposes one source for two targets."""
    if file_kind not in TARGETS:
        raise ValueError(f"Unknown file kind “{file_kind}”: use one of {', '.join(TARGETS)}.")
    names = source_names(headers)
    sources = [(name, _match_key(header)) for name, header in zip(names, headers, strict=True)]
    sources = [(name, key) for name, key in sources if key]
    keys_present = {key for _, key in sources}
    aliases = ALIASES[file_kind]
    chosen = {}  # target or pseudo-target → source name
    doubtful = {}

    def free_source(alias_key):
        taken = set(chosen.values())
        return next((name for name, key in sources if key == alias_key and name not in taken), None)

    # 1. Known headers, best alias first.
    for target, target_aliases in aliases.items():
        for alias in target_aliases:
            if source := free_source(normalise(alias)):
                chosen[target] = source
                break

    # 2. Ambiguous headers, only for what is still missing; a look-alike left out is noted.
    for target, ambiguities in AMBIGUOUS[file_kind].items():
        for ambiguity in ambiguities:
            source = free_source(normalise(ambiguity.header))
            if source is None:
                continue
            if target in chosen:
                if target == "Title":
                    doubtful[target] = (
                        f"“{source}” was left out: beside “{chosen[target]}” it is most likely "
                        "a salutation (Mr., Ms., Dr.)."
                    )
                continue
            chosen[target] = source
            cleared = any(normalise(h) in keys_present for h in ambiguity.clear_with)
            if not cleared:
                doubtful[target] = ambiguity.note.format(header=source)

    # 3. Fuzzy matching of the unknown headers against the known ones of missing targets.
    known = {normalise(alias) for target_aliases in aliases.values() for alias in target_aliases}
    known |= {normalise(a.header) for group in AMBIGUOUS[file_kind].values() for a in group}
    known |= {normalise(header) for header in NOT_OURS}
    taken = set(chosen.values())
    unknown = [(name, key) for name, key in sources if key not in known and name not in taken]
    candidates = []
    for target, target_aliases in aliases.items():
        if target in chosen:
            continue
        choices = [normalise(alias) for alias in target_aliases]
        for name, key in unknown:
            match = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if match:
                candidates.append((match[1], target, name, target_aliases[match[2]]))
    for score, target, name, alias in sorted(candidates, key=lambda c: -c[0]):
        if target not in chosen and name not in chosen.values():
            chosen[target] = name
            doubtful[target] = (
                f"“{name}” was taken for {target} because it looks like “{alias}” "
                f"({round(score)}% alike): check it."
            )

    return _proposal(names, chosen, doubtful, file_kind)


def _proposal(names, chosen, doubtful, file_kind):
    """Turn the pseudo-targets into account_lookup and full_name (with their doubts, which are
    dropped when the pseudo-target is not needed), and list what is unused."""
    proposal = Proposal(doubtful=doubtful)
    account_name, account_doubt = chosen.pop(ACCOUNT_NAME, None), doubtful.pop(ACCOUNT_NAME, None)
    full_name, name_doubt = chosen.pop(FULL_NAME, None), doubtful.pop(FULL_NAME, None)
    if account_name and "Account ID" not in chosen:
        chosen["Account ID"] = account_name
        proposal.account_lookup = "Account Name"
        if account_doubt:
            doubtful["Account ID"] = account_doubt
    if full_name and "First Name" not in chosen and "Last Name" not in chosen:
        proposal.full_name = full_name
        if name_doubt:
            doubtful["First Name"] = doubtful["Last Name"] = name_doubt
    proposal.columns = {target: chosen[target] for target in TARGETS[file_kind] if target in chosen}
    used = set(proposal.columns.values()) | {proposal.full_name}
    proposal.unused = [name for name in names if name and name not in used]
    return proposal


def guess_value(target, value, choices=()):
    """Our value for a source `value` of `target`, for pre-filling a value map; "" when there is
    no good guess. Contact and Key Contact: the usual spellings of true and false become "yes"
    and "no". Account Role and Account Type: the one of `choices` equal to it ignoring case and
    spaces, else the closest by rapidfuzz above a cutoff."""
    text = str(value).strip()
    if not text:
        return ""
    if target in ("Contact", "Key Contact"):
        folded = text.casefold()
        if folded in YES:
            return "yes"
        if folded in NO:
            return "no"
        return ""
    if target in ("Account Role", "Account Type"):
        key = normalise(text)
        by_key = {normalise(choice): choice for choice in choices}
        if key in by_key:
            return by_key[key]
        match = process.extractOne(key, list(by_key), scorer=fuzz.ratio, score_cutoff=VALUE_CUTOFF)
        return by_key[match[0]] if match else ""
    return ""
