from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from bookmarks.normalize import InvalidURL, clean_url, with_default_scheme


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

    def clean_url(self) -> str:
        try:
            return clean_url(with_default_scheme(self.cleaned_data["url"]))
        except InvalidURL as exc:
            raise forms.ValidationError(str(exc)) from None


class AccountForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["email"]
        labels = {"email": _("Email address (optional, for password resets)")}
