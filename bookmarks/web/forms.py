from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookmarks.normalize import InvalidURL, clean_url, with_default_scheme
from bookmarks.services.tagging import max_tags, parse_tags


def tag_count_error(count: int) -> str:
    """The refusal of more tags than a bookmark holds, for the web form and the REST API."""
    limit = max_tags()
    return ngettext(
        "A bookmark holds at most %(limit)d tag; %(count)d were given.",
        "A bookmark holds at most %(limit)d tags; %(count)d were given.",
        limit,
    ) % {"limit": limit, "count": count}


class BookmarkForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=8192,
        widget=forms.URLInput(attrs={"autofocus": True, "placeholder": "https://", "inputmode": "url"}),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=500,
        required=False,
        help_text=_("Leave empty to use the page's own title."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        max_length=2000,
        required=False,
        help_text=_("Separated by spaces or commas."),
    )
    note = forms.CharField(label=_("Note"), max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    is_private = forms.BooleanField(label=_("Private"), required=False)
    unread = forms.BooleanField(label=_("Unread (read later)"), required=False)

    def clean_url(self) -> str:
        try:
            return clean_url(with_default_scheme(self.cleaned_data["url"]))
        except InvalidURL as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_tags(self) -> str:
        count = len(parse_tags(self.cleaned_data["tags"]))
        if count > max_tags():
            raise forms.ValidationError(tag_count_error(count))
        return self.cleaned_data["tags"]


class IdListField(forms.TypedMultipleChoiceField):
    """Many integer ids. Any id is accepted here: the services ignore ids that are not the user's."""

    def __init__(self, **kwargs):
        super().__init__(coerce=int, **kwargs)

    def valid_value(self, value: object) -> bool:
        return str(value).isdigit()


class BulkActionForm(forms.Form):
    """The bar above the list: what to do with the ticked bookmarks."""

    ADD_TAG, REMOVE_TAG, DELETE, RECHECK = "add_tag", "remove_tag", "delete", "recheck"
    MARK_READ, MARK_UNREAD = "mark_read", "mark_unread"

    action = forms.ChoiceField(
        label=_("With the selected"),
        choices=[
            (ADD_TAG, _("Add tag")),
            (REMOVE_TAG, _("Remove tag")),
            (MARK_READ, _("Mark read")),
            (MARK_UNREAD, _("Mark unread (read later)")),
            (DELETE, _("Delete")),
            (RECHECK, _("Check the links again")),
        ],
    )
    tag = forms.CharField(label=_("Tag"), max_length=200, required=False)
    ids = IdListField(error_messages={"required": _("Select some bookmarks first.")})

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") in (self.ADD_TAG, self.REMOVE_TAG) and not data.get("tag", "").strip():
            self.add_error("tag", _("Type the tag to add or remove."))
        return data


class TagRenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=64)


class TagMergeForm(forms.Form):
    tags = forms.TypedMultipleChoiceField(coerce=int, error_messages={"required": _("Select the tags to merge.")})
    target = forms.TypedChoiceField(coerce=int, label=_("Merge into"))

    def __init__(self, *args, tag_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = tag_choices
        self.fields["target"].choices = tag_choices


class AccountForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["email"]
        labels = {"email": _("Email address (optional, for password resets)")}

    def clean_email(self) -> str:
        return get_user_model().objects.normalize_email(self.cleaned_data.get("email") or "")


class SignupForm(UserCreationForm):
    """Django's sign-up form with an optional e-mail address (for password resets)."""

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
        labels = {"email": _("Email address (optional, for password resets)")}

    def clean_email(self) -> str:
        return get_user_model().objects.normalize_email(self.cleaned_data.get("email") or "")
