from django.contrib.auth import views as auth
from django.urls import path

from zhenggai.figures import views as figures

from .views import account, board, desk, leader, lists, owner, paper, problem, verify, worker

app_name = "web"
urlpatterns = [
    path("", figures.situation, name="situation"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("language/", account.set_language, name="set_language"),
    # worker
    path("submit/", worker.submit, name="submit"),
    path("receipt/", worker.check_receipt, name="receipt"),
    path("mine/", worker.my_opinions, name="my_opinions"),
    # clerk, owner, representative, leader
    path("desk/", desk.desk, name="desk"),
    path("desk/targets/", desk.targets, name="desk_targets"),
    path("desk/proposals/", desk.desk_proposals, name="desk_proposals"),
    path("desk/proposals/<id:pk>/", desk.decide, name="desk_decide"),
    path("owner/", owner.my_problems, name="my_problems"),
    path("problems/", lists.problem_list, name="problem_list"),
    path("opinions/", lists.opinion_list, name="opinion_list"),
    path("problems/<id:pk>/", problem.problem_page, name="problem"),
    path("photos/<id:pk>/", problem.photo, name="photo"),
    path("opinions/photos/<id:pk>/", problem.opinion_photo, name="opinion_photo"),
    path("desk/slips/", paper.print_slips, name="slips"),
    path("desk/paper/", paper.type_in, name="paper"),
    path("verify/", verify.queue, name="verify"),
    path("rounds/", verify.review_rounds, name="rounds"),
    path("leader/", leader.board, name="leader"),
    path("leader/handover/", leader.handover, name="handover"),
    path("leader/carry-over/", leader.carry_over, name="carry_over"),
    path("leader/bulletin/", leader.bulletin, name="bulletin"),
    # the public board
    path("board/", board.public_board, name="board"),
    path("board/problems/<id:pk>/", board.poster_print, name="poster"),
]
