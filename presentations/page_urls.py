from django.urls import path

from presentations import views

COURSE = "courses/<slug:slug>"
PRESENTERS = f"{COURSE}/presentations/presenters"

urlpatterns = [
    path(f"{COURSE}/presentations/", views.presentations_page, name="presentations"),
    path(f"{PRESENTERS}/assign/", views.presenters_assign_page, name="presenters-assign"),
    path(f"{PRESENTERS}/place/", views.presenter_place_page, name="presenter-place"),
    path(f"{PRESENTERS}/swap/", views.presenters_swap_page, name="presenters-swap"),
    path(f"{PRESENTERS}/<int:pk>/unpin/", views.presenter_unpin_page, name="presenter-unpin"),
    path(f"{PRESENTERS}/<int:pk>/remove/", views.presenter_remove_page, name="presenter-remove"),
    path(f"{COURSE}/reviews/", views.reviews_page, name="reviews"),
    path(f"{COURSE}/reviews/<slug:paper_key>/", views.review_page, name="review"),
]
